"""A human verdict through LangGraph's ``interrupt``."""

from __future__ import annotations

from langgraph.types import interrupt

from reflexion_graph._records import Evaluation
from reflexion_graph.evaluators._base import BaseEvaluator, to_evaluation


class HumanEvaluator(BaseEvaluator):
    """Pauses the run for a person's verdict (needs a checkpointer).

    The interrupt carries ``{"question", "task", "answer"}``; resume with
    ``Command(resume=...)`` and ``True``/``False``, a score in [0, 1], or
    ``{"passed": ..., "score": ..., "feedback": ...}``.
    """

    def __init__(
        self, *, question: str = "Does this answer solve the task?", pass_threshold: float = 1.0
    ) -> None:
        self.question = question
        self.pass_threshold = pass_threshold

    def evaluate(self, task: str, answer: str) -> Evaluation:
        """Interrupt, then turn the resume value into an :class:`Evaluation`."""
        verdict = interrupt({"question": self.question, "task": task, "answer": answer})
        return to_evaluation(
            verdict, source="human", pass_threshold=self.pass_threshold, origin="the human"
        )

    async def aevaluate(self, task: str, answer: str) -> Evaluation:
        """Same as :meth:`evaluate` (an interrupt must run in the node's own context)."""
        return self.evaluate(task, answer)
