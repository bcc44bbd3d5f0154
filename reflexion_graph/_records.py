"""JSON-native records that flow through the graph state and into memory."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Literal

from typing_extensions import TypedDict

from reflexion_graph.errors import ConfigurationError

Outcome = Literal["pending", "passed", "improved", "not_improved", "unused"]
"""What happened on the attempt that followed a reflection."""

Primitive = str | int | float | bool


class Evaluation(TypedDict):
    """The verdict on one attempt."""

    passed: bool
    """Whether the attempt solves the task."""
    score: float
    """Quality in ``[0, 1]``; ``1.0`` for a pass of a binary check."""
    feedback: str
    """Free-text feedback the reflector reads (failing test, expected vs actual, ...)."""
    aspects: dict[str, float]
    """Per-aspect scores in ``[0, 1]`` (rubric judges); empty for plain checks."""
    source: str
    """Where the verdict came from: ``tests``, ``checker``, ``judge``, ``human``, ..."""


class Attempt(TypedDict):
    """One try of the actor together with its verdict."""

    number: int
    """1-based attempt number within the run."""
    answer: str
    """The actor's full answer."""
    evaluation: Evaluation
    """The evaluator's verdict on ``answer``."""


class Reflection(TypedDict):
    """A verbal lesson written after a failed attempt."""

    id: str
    """Stable identifier (also the memory key)."""
    text: str
    """The lesson: what went wrong and what to do next."""
    task: str
    """The task the lesson was learned on."""
    attempt: int
    """The number of the failed attempt the lesson reflects on."""
    outcome: Outcome
    """What the attempt after the lesson achieved (set when the run ends)."""
    created_at: str
    """ISO-8601 UTC timestamp."""
    prompt: str
    """The exact prompt the lesson was written from (training data for the RL papers)."""
    metadata: dict[str, Primitive]
    """Primitive metadata (model id, scope, score change, ...)."""


def make_evaluation(
    passed: bool,
    score: float | None = None,
    *,
    feedback: str = "",
    aspects: dict[str, float] | None = None,
    source: str = "checker",
) -> Evaluation:
    """Build a validated :class:`Evaluation`; ``score`` defaults to 1.0 / 0.0 from ``passed``."""
    if score is None:
        score = 1.0 if passed else 0.0
    _check_unit_interval("score", score)
    for name, value in (aspects or {}).items():
        _check_unit_interval(f"aspect {name!r}", value)
    return Evaluation(
        passed=bool(passed),
        score=float(score),
        feedback=feedback,
        aspects=dict(aspects or {}),
        source=source,
    )


def make_reflection(
    text: str,
    *,
    task: str,
    attempt: int,
    prompt: str = "",
    metadata: dict[str, Primitive] | None = None,
) -> Reflection:
    """Build a new :class:`Reflection` whose outcome is still pending."""
    return Reflection(
        id=uuid.uuid4().hex,
        text=text.strip(),
        task=task,
        attempt=attempt,
        outcome="pending",
        created_at=datetime.now(UTC).isoformat(),
        prompt=prompt,
        metadata=dict(metadata or {}),
    )


def _check_unit_interval(name: str, value: float) -> None:
    if not isinstance(value, int | float) or math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ConfigurationError(f"{name} must be a number in [0, 1], got {value!r}")
