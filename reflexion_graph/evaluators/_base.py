"""The evaluator contract and the wrapper for plain callables."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

from reflexion_graph._records import Evaluation, make_evaluation
from reflexion_graph.errors import ConfigurationError

EvaluatorFunction = Callable[[str, str], "bool | float | Evaluation | Mapping[str, Any]"]
"""A plain function ``(task, answer) -> bool | score | Evaluation``."""


class BaseEvaluator(ABC):
    """Judges one answer to a task."""

    @abstractmethod
    def evaluate(self, task: str, answer: str) -> Evaluation:
        """Return the verdict on ``answer``."""

    async def aevaluate(self, task: str, answer: str) -> Evaluation:
        """Async twin of :meth:`evaluate`; runs it in a worker thread unless overridden."""
        return await asyncio.to_thread(self.evaluate, task, answer)


class CallableEvaluator(BaseEvaluator):
    """Wraps a function returning a bool, a score in [0, 1], or an :class:`Evaluation`."""

    def __init__(self, function: EvaluatorFunction, *, pass_threshold: float = 1.0) -> None:
        self.function = function
        self.pass_threshold = pass_threshold

    def evaluate(self, task: str, answer: str) -> Evaluation:
        """Call the function and normalise its result."""
        name = getattr(self.function, "__name__", repr(self.function))
        return to_evaluation(
            self.function(task, answer),
            source="callable",
            pass_threshold=self.pass_threshold,
            origin=f"evaluator {name!r}",
        )


def to_evaluation(
    result: object, *, source: str, pass_threshold: float = 1.0, origin: str = "the verdict"
) -> Evaluation:
    """Normalise a bool, a score in [0, 1], or a mapping with ``passed`` to an Evaluation."""
    if isinstance(result, bool):
        return make_evaluation(result, source=source)
    if isinstance(result, int | float):
        score = float(result)
        return make_evaluation(score >= pass_threshold, score, source=source)
    if isinstance(result, Mapping) and "passed" in result:
        return make_evaluation(
            bool(result["passed"]),
            result.get("score"),
            feedback=str(result.get("feedback", "")),
            aspects=dict(result.get("aspects") or {}),
            source=str(result.get("source", source)),
            checks=list(result.get("checks") or []),
            findings=list(result.get("findings") or []),
            changes=list(result.get("changes") or []),
        )
    raise ConfigurationError(
        f"{origin} returned {type(result).__name__}; "
        "expected bool, a score in [0, 1], or a mapping with 'passed'"
    )


def as_evaluator(evaluator: BaseEvaluator | EvaluatorFunction) -> BaseEvaluator:
    """Accept an evaluator object or wrap a plain callable once."""
    if isinstance(evaluator, BaseEvaluator):
        return evaluator
    if callable(evaluator):
        return CallableEvaluator(evaluator)
    raise ConfigurationError(
        f"evaluator must be a BaseEvaluator or a callable (task, answer), "
        f"got {type(evaluator).__name__!r}"
    )
