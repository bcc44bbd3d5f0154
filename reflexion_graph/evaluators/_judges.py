"""Model-based judges: pass/fail with a reason, and per-aspect rubrics (RLRF)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from reflexion_graph import prompts
from reflexion_graph._parsing import extract_json, message_text
from reflexion_graph._records import Evaluation, make_evaluation
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.evaluators._base import BaseEvaluator
from reflexion_graph.models._binding import with_options

DEFAULT_ASPECTS = (
    "factuality",
    "logical correctness",
    "completeness",
    "readability",
    "harmlessness",
    "insightfulness",
)
"""RLRF's fine-grained aspects."""


class _JSONJudge(BaseEvaluator):
    """Asks a model for JSON; retries once with a reminder; never raises on bad output."""

    source = "judge"

    def __init__(self, model: BaseChatModel, schema: dict[str, Any]) -> None:
        # OpenAI-compatible servers (llama.cpp included) can constrain decoding to the schema.
        self.model = with_options(model, json_schema=schema)

    def evaluate(self, task: str, answer: str) -> Evaluation:
        """Ask, and ask once more if the reply cannot be used."""
        messages: list[BaseMessage] = [HumanMessage(self._prompt(task, answer))]
        reply = message_text(self.model.invoke(messages).content)
        verdict = self._parse(extract_json(reply))
        if verdict is None:
            messages += [AIMessage(reply), HumanMessage(prompts.JSON_REMINDER)]
            reply = message_text(self.model.invoke(messages).content)
            verdict = self._parse(extract_json(reply))
        return verdict or self._unparseable(reply)

    async def aevaluate(self, task: str, answer: str) -> Evaluation:
        """Async twin of :meth:`evaluate`."""
        messages: list[BaseMessage] = [HumanMessage(self._prompt(task, answer))]
        reply = message_text((await self.model.ainvoke(messages)).content)
        verdict = self._parse(extract_json(reply))
        if verdict is None:
            messages += [AIMessage(reply), HumanMessage(prompts.JSON_REMINDER)]
            reply = message_text((await self.model.ainvoke(messages)).content)
            verdict = self._parse(extract_json(reply))
        return verdict or self._unparseable(reply)

    @abstractmethod
    def _prompt(self, task: str, answer: str) -> str:
        """The judging prompt."""

    @abstractmethod
    def _parse(self, value: Any) -> Evaluation | None:
        """The verdict in the decoded JSON, or ``None`` when it is not usable."""

    def _unparseable(self, reply: str) -> Evaluation:
        return make_evaluation(
            False,
            feedback=f"unparseable judge output (after one retry): {reply[:200]!r}",
            source=self.source,
        )


class LLMJudge(_JSONJudge):
    """Pass/fail and a score in [0, 1] with a short reason, from a chat model."""

    def __init__(
        self,
        model: BaseChatModel,
        *,
        criteria: str = "Is the answer correct, complete and on task?",
        pass_threshold: float = 0.5,
    ) -> None:
        super().__init__(model, _VERDICT_SCHEMA)
        self.criteria = criteria
        self.pass_threshold = pass_threshold

    def _prompt(self, task: str, answer: str) -> str:
        return prompts.JUDGE_PROMPT.format(criteria=self.criteria, task=task, answer=answer)

    def _parse(self, value: Any) -> Evaluation | None:
        if not isinstance(value, dict) or not isinstance(value.get("passed"), bool):
            return None
        score = value.get("score")
        if not isinstance(score, int | float) or not 0 <= score <= 1:
            score = (
                1.0 if value["passed"] else 0.0
            )  # small models misread the scale: keep the verdict
        passed = value["passed"] and score >= self.pass_threshold
        return make_evaluation(
            passed, float(score), feedback=str(value.get("reason", "")), source=self.source
        )


class RubricJudge(_JSONJudge):
    """Per-aspect ratings on a small fixed scale (RLRF); passes when the mean reaches a bar.

    Aspects the model leaves out are named in the feedback and left out of the score; a reply
    with no usable rating is an "unparseable" failed evaluation.
    """

    source = "rubric"

    def __init__(
        self,
        model: BaseChatModel,
        *,
        aspects: Sequence[str] = DEFAULT_ASPECTS,
        scale: tuple[int, int] = (1, 5),
        pass_threshold: float = 0.75,
    ) -> None:
        low, high = scale
        if not aspects or high <= low:
            raise ConfigurationError(
                f"a rubric needs aspects and a scale low < high, got "
                f"{list(aspects)!r} and {scale!r}"
            )
        self.aspects = list(aspects)
        self.low, self.high = low, high
        self.pass_threshold = pass_threshold
        super().__init__(model, _rubric_schema(self.aspects, low, high))

    def _prompt(self, task: str, answer: str) -> str:
        example = ", ".join(f'"{aspect}": {self.low}-{self.high}' for aspect in self.aspects)
        return prompts.RUBRIC_PROMPT.format(
            low=self.low,
            high=self.high,
            aspects=", ".join(self.aspects),
            task=task,
            answer=answer,
            example=example,
        )

    def _parse(self, value: Any) -> Evaluation | None:
        ratings = value.get("ratings") if isinstance(value, dict) else None
        if not isinstance(ratings, dict):
            return None
        aspects = {}
        for aspect in self.aspects:
            rating = ratings.get(aspect)
            if isinstance(rating, int | float) and self.low <= rating <= self.high:
                aspects[aspect] = (rating - self.low) / (self.high - self.low)
        if not aspects:
            return None
        score = sum(aspects.values()) / len(aspects)
        missing = [aspect for aspect in self.aspects if aspect not in aspects]
        notes = [str(value.get("feedback", "")).strip()]
        if missing:
            notes.append(f"(not rated: {', '.join(missing)})")
        weakest = min(aspects, key=lambda name: aspects[name])
        notes.append(f"weakest aspect: {weakest}")
        return make_evaluation(
            score >= self.pass_threshold,
            score,
            feedback=" ".join(note for note in notes if note),
            aspects=aspects,
            source=self.source,
        )


_VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "passed": {"type": "boolean"},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "reason": {"type": "string"},
    },
    "required": ["passed", "score", "reason"],
}


def _rubric_schema(aspects: list[str], low: int, high: int) -> dict[str, Any]:
    rating = {"type": "integer", "minimum": low, "maximum": high}
    return {
        "type": "object",
        "properties": {
            "ratings": {
                "type": "object",
                "properties": {aspect: rating for aspect in aspects},
                "required": aspects,
            },
            "feedback": {"type": "string"},
        },
        "required": ["ratings", "feedback"],
    }
