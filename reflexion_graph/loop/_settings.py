"""The run's settings: the per-run context and the literals its fields take."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from reflexion_graph.errors import ConfigurationError

_T = TypeVar("_T")

StopReason = Literal["passed", "max_attempts", "token_budget", "plateau"]

RetryContext = Literal["reflections", "last_attempt", "last_attempt_and_reflection", "none", "auto"]
"""What a retry sees of the run, as in Reflexion's code: the run's reflections; the last
attempt with its feedback and no reflector call (Self-Refine, self-debugging); both (the
Reflexion paper's programming setup); nothing: a fresh sample, no reflector call (the
resampling baseline); or ``auto``: both, unless the verdict came from the model's own tests,
then the reflections alone (shown its failed code under its own tests, a small model copies
it)."""

RememberPolicy = Literal["hindsight", "every_failure", "evidence", "evidence_and_hindsight"]
"""What a run stores across tasks: a lesson written in hindsight from a failed and a passing
attempt (nothing when the run never passes); every in-run lesson, as written at failure; the
checks the run failed, from a template with no model call (``evidence``); or both the
evidence and the verified hindsight rule."""

REMEMBER_POLICIES: tuple[RememberPolicy, ...] = (
    "hindsight",
    "every_failure",
    "evidence",
    "evidence_and_hindsight",
)
WRITES_RULES: tuple[RememberPolicy, ...] = ("hindsight", "evidence_and_hindsight")
"""The policies that write a hindsight rule and replay it."""
KEEPS_EVIDENCE: tuple[RememberPolicy, ...] = ("evidence", "evidence_and_hindsight")
"""The policies that keep the run's failed checks as an evidence lesson."""

RETRY_CONTEXTS: tuple[RetryContext, ...] = (
    "reflections",
    "last_attempt",
    "last_attempt_and_reflection",
    "none",
    "auto",
)


def _setting(default: _T, description: str) -> _T:
    """A context field with its description (Studio's context form shows it)."""
    return field(default=default, metadata={"description": description})


@dataclass(kw_only=True)
class ReflexionContext:
    """Per-run settings; pass as ``context=ReflexionContext(...)`` (or a dict in Studio)."""

    max_attempts: int = _setting(3, "Attempts before giving up (1 = no reflection).")
    reflection_window: int = _setting(
        3, "How many of this run's latest reflections the actor sees."
    )
    retry_context: RetryContext = _setting(
        "auto",
        "What a retry sees: 'reflections' (this run's lessons), "
        "'last_attempt' (the failed answer and its feedback; no reflector call), "
        "'last_attempt_and_reflection' (both, as in the Reflexion paper), 'none' "
        "(a fresh sample; no reflector call) or 'auto' (both, unless the verdict came "
        "from the model's own tests: then a fresh sample, as resampling led there).",
    )
    recall_k: int = _setting(
        2,
        "Rules recalled from long-term memory per task (2: as often "
        "the task family's own lesson as 3, with half the lessons of other families; "
        "benchmarks/recall_k_bench.py).",
    )
    recall_evidence: int = _setting(
        2,
        "Evidence lessons (checks earlier tasks failed, as recorded) "
        "recalled per task as examples, beside the rules; never the task's own.",
    )
    memory_scope: str = _setting("global", "Memory namespace (tenant, user or task family).")
    save_lessons: bool = _setting(True, "Persist this run's lessons to long-term memory.")
    save_reflections: bool | None = _setting(None, "Deprecated: the earlier name of save_lessons.")
    remember: RememberPolicy = _setting(
        "evidence_and_hindsight",
        "What long-term memory keeps: 'evidence_and_hindsight' (the "
        "default: the run's failed checks as recorded, with the changes that made a failed "
        "answer pass every check told as conventions, and the verified hindsight rule), "
        "'hindsight' (once a failed task has "
        "passed, one rule from the contrast of the failed and the passing attempt, kept "
        "if its replay passes), 'every_failure' (each lesson as written after a failure), "
        "or 'evidence' (the checks the run failed alone; no model call).",
    )
    verify_by_replay: bool = _setting(
        True,
        "Store a hindsight lesson only if a fresh attempt shown just that "
        "lesson passes the same evaluator (the replays count in the run's usage).",
    )
    lesson_candidates: int = _setting(
        3,
        "Hindsight rules to replay at most, until one passes: first the "
        "rule of the in-run lesson that led to the pass, then rules written from the "
        "contrast.",
    )
    replay_unsolved: bool = _setting(
        False,
        "With 'hindsight', also a run that never passed: replay the rules "
        "of its in-run lessons (latest first, up to lesson_candidates) and store the "
        "first whose replay passes. Needs verify_by_replay.",
    )
    approve_lessons: bool = _setting(
        False,
        "Pause (interrupt) for a human to approve, edit or reject "
        "lessons before they enter shared memory; needs a checkpointer.",
    )
    max_total_tokens: int | None = _setting(
        None,
        "Stop before another attempt once a run has spent this many "
        "tokens; None means no token budget.",
    )
    plateau_patience: int | None = _setting(
        None,
        "Stop once this many attempts in a row brought no score above the "
        "best before them; None never stops on a plateau.",
    )

    def __post_init__(self) -> None:
        """Reject values that cannot describe a run; take the earlier name of a setting."""
        if self.save_reflections is not None:
            warnings.warn(
                "context save_reflections is now save_lessons", DeprecationWarning, stacklevel=3
            )
            self.save_lessons, self.save_reflections = bool(self.save_reflections), None
        for name in ("max_total_tokens", "plateau_patience"):
            if getattr(self, name) == 0 and not isinstance(getattr(self, name), bool):
                warnings.warn(
                    f"context {name}=0 is deprecated; None turns the limit off",
                    DeprecationWarning,
                    stacklevel=3,
                )
                setattr(self, name, None)
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 1
            ):
                raise ConfigurationError(
                    f"context {name!r} must be an integer >= 1, or None (off), got {value!r}"
                )
        integers = ("max_attempts", "reflection_window", "recall_k", "recall_evidence")
        for name in (*integers, "lesson_candidates"):
            value = getattr(self, name)
            minimum = 1 if name in ("max_attempts", "lesson_candidates") else 0
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                raise ConfigurationError(
                    f"context {name!r} must be an integer >= {minimum}, got {value!r}"
                )
        if self.retry_context not in RETRY_CONTEXTS:
            raise ConfigurationError(
                f"context 'retry_context' must be one of {RETRY_CONTEXTS}, "
                f"got {self.retry_context!r}"
            )
        if self.replay_unsolved and not self.verify_by_replay:
            raise ConfigurationError(
                "context 'replay_unsolved' needs verify_by_replay=True: an unsolved run's "
                "rules stored unreplayed are remember='every_failure'"
            )
        if self.remember not in REMEMBER_POLICIES:
            raise ConfigurationError(
                f"context 'remember' must be one of {REMEMBER_POLICIES}, got {self.remember!r}"
            )
        if not self.memory_scope.strip():
            raise ConfigurationError("context 'memory_scope' must not be empty")
