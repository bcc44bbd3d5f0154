"""Several evaluators judged as one: all must pass, or a weighted score."""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Sequence

from reflexion_graph._records import Evaluation, joined_sources, make_evaluation
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
    def _combined(verdicts: list[Evaluation], passed: bool, score: float) -> Evaluation:
        """One verdict: ``passed`` and ``score``, with everything the verdicts said, merged."""
        return make_evaluation(
            passed,
            score,
            feedback="\n".join(
                f"[{v['source']}] {v['feedback']}" for v in verdicts if v["feedback"]
            ),
            aspects={name: value for v in verdicts for name, value in v["aspects"].items()},
            source=joined_sources([v["source"] for v in verdicts]),
            checks=[check for v in verdicts for check in v.get("checks") or []],
            findings=list(dict.fromkeys(f for v in verdicts for f in v.get("findings") or [])),
            changes=[change for v in verdicts for change in v.get("changes") or []],
        )


class AllOf(_Composite):
    """Passes when every evaluator passes; the score is their mean."""

    def _combine(self, verdicts: list[Evaluation]) -> Evaluation:
        score = sum(v["score"] for v in verdicts) / len(verdicts)
        return self._combined(verdicts, all(v["passed"] for v in verdicts), score)


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
        score = sum(w * v["score"] for w, v in zip(self.weights, verdicts, strict=True))
        score = min(max(score, 0.0), 1.0)
        return self._combined(verdicts, score >= self.pass_threshold, score)
