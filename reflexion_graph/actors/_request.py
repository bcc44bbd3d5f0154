"""What one attempt is given (one request object, as LangChain's ``ModelRequest``) and makes."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reflexion_graph._records import Attempt, Lesson, Reflection, ToolStep


@dataclass(frozen=True, kw_only=True)
class AttemptRequest:
    """The task and what earlier failures taught, for one attempt.

    The graph builds one per attempt from the run's state and its retry context; a replay of a
    hindsight lesson is a fresh first attempt that sees only that lesson.
    """

    task: str
    """The task to solve."""
    lessons: Sequence[Lesson] = ()
    """Lessons recalled from earlier tasks (long-term memory)."""
    reflections: Sequence[Reflection] = ()
    """This run's lessons, as many as the retry context shows."""
    last_attempt: Attempt | None = None
    """The previous attempt with its verdict, when the retry context shows it."""
    number: int = 1
    """The attempt's number in its run (1 for a first attempt and for a replay)."""

    def override(self, **changes: Any) -> AttemptRequest:
        """A copy with ``changes`` applied (``request.override(lessons=[])``)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class AttemptResult:
    """What an attempt made: its answer, and the tool calls that led to it.

    Actors with tools return one; an actor without tools may return its answer as a string.
    """

    answer: str
    """The answer the evaluator judges."""
    steps: Sequence[ToolStep] = ()
    """The tool calls, in order, each with what the tool answered."""


def as_result(made: str | AttemptResult) -> AttemptResult:
    """An actor's return value as an :class:`AttemptResult`."""
    return made if isinstance(made, AttemptResult) else AttemptResult(made)
