"""Several evaluators judged as one: all must pass, or a weighted score."""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from reflexion_graph._records import Evaluation, FailedCheck, joined_sources, make_evaluation
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.evaluators._base import BaseEvaluator, EvaluatorFunction, as_evaluator


class _Composite(BaseEvaluator):
    def __init__(self, evaluators: Sequence[BaseEvaluator | EvaluatorFunction]) -> None:
        if not evaluators:
            raise ConfigurationError(f"{type(self).__name__} needs at least one evaluator")
        self.evaluators = [as_evaluator(evaluator) for evaluator in evaluators]

    def evaluate(self, task: str, answer: str) -> Evaluation:
        """Run every evaluator, then combine."""
        return self._combine([e.evaluate(task, answer) for e in self.evaluators])

    async def aevaluate(self, task: str, answer: str) -> Evaluation:
        """Run every evaluator concurrently, then combine."""
        verdicts = await asyncio.gather(*(e.aevaluate(task, answer) for e in self.evaluators))
        return self._combine(list(verdicts))

    @abstractmethod
    def _combine(self, verdicts: list[Evaluation]) -> Evaluation:
        """One verdict from several."""

    @staticmethod
    def _merged(verdicts: list[Evaluation]) -> tuple[str, dict[str, float], str]:
        feedback = "\n".join(f"[{v['source']}] {v['feedback']}" for v in verdicts if v["feedback"])
        aspects = {name: score for v in verdicts for name, score in v["aspects"].items()}
        source = joined_sources([v["source"] for v in verdicts])
        return feedback, aspects, source


class AllOf(_Composite):
    """Passes when every evaluator passes; the score is their mean."""

    def _combine(self, verdicts: list[Evaluation]) -> Evaluation:
        feedback, aspects, source = self._merged(verdicts)
        score = sum(v["score"] for v in verdicts) / len(verdicts)
        return make_evaluation(
            all(v["passed"] for v in verdicts),
            score,
            feedback=feedback,
            aspects=aspects,
            source=source,
            checks=_checks(verdicts),
            findings=_findings(verdicts),
            changes=_changes(verdicts),
        )


class Weighted(_Composite):
    """A weighted mean of scores; passes at ``pass_threshold``."""

    def __init__(
        self,
        evaluators: Sequence[BaseEvaluator | EvaluatorFunction],
        weights: Sequence[float],
        *,
        pass_threshold: float = 1.0,
    ) -> None:
        super().__init__(evaluators)
        if len(weights) != len(self.evaluators) or any(w < 0 for w in weights) or not sum(weights):
            raise ConfigurationError(
                f"need one non-negative weight per evaluator with a positive sum, got {weights!r}"
            )
        self.weights = [w / sum(weights) for w in weights]
        self.pass_threshold = pass_threshold

    def _combine(self, verdicts: list[Evaluation]) -> Evaluation:
        feedback, aspects, source = self._merged(verdicts)
        score = sum(w * v["score"] for w, v in zip(self.weights, verdicts, strict=True))
        score = min(max(score, 0.0), 1.0)
        return make_evaluation(
            score >= self.pass_threshold,
            score,
            feedback=feedback,
            aspects=aspects,
            source=source,
            checks=_checks(verdicts),
            findings=_findings(verdicts),
            changes=_changes(verdicts),
        )


def _checks(verdicts: list[Evaluation]) -> list[FailedCheck]:
    """Every failed check the verdicts recorded, in order."""
    return [check for verdict in verdicts for check in verdict.get("checks") or []]


def _changes(verdicts: list[Evaluation]) -> list[dict[str, Any]]:
    """The verified changes of every verdict, in order."""
    return [change for verdict in verdicts for change in verdict.get("changes") or []]


def _findings(verdicts: list[Evaluation]) -> list[str]:
    """Every finding the verdicts recorded, each once, in order."""
    return list(dict.fromkeys(f for verdict in verdicts for f in verdict.get("findings") or []))
