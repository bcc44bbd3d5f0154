"""The bench's lanes as data: what each strategy's runs are shown, and what they keep.

Every lane shares the run's first attempts and self-written tests; lanes differ only in what
they do after a failure (and, for the lesson lanes, in what their first attempt recalls).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from reflexion_graph.errors import ConfigurationError
from reflexion_graph.loop._settings import (
    RETRY_CONTEXTS,
    ReflexionContext,
    RememberPolicy,
    RetryContext,
)

Lessons = Literal["none", "memory", "oracle", "family"]

PAPER_RETRY_CONTEXT: RetryContext = "last_attempt_and_reflection"
"""What the ``reflexion`` lanes' retries see unless ``--retry-context`` says otherwise: the
Reflexion paper's programming setup (fixed here, whatever the library's default, so a results
file stays resumable)."""

MEMORY_SETTINGS = ("recall_k", "lesson_candidates", "verify_by_replay")
"""The run settings that change what a memory lane recalls and keeps: a results file records
them (the library's defaults unless the bench is told otherwise)."""
UNRECORDED_MEMORY_SETTINGS = {"recall_k": 3, "lesson_candidates": 3, "verify_by_replay": True}
"""What every results file written before its config recorded the memory settings ran with."""

SINGLE, RETRY, REFINE, REFLEXION = "single", "retry", "refine", "reflexion"
MEMORY, ORACLE = "reflexion+memory", "oracle-lesson"
EVERY_FAILURE, FAMILY_LESSONS = "reflexion+memory:every-failure", "family-lessons"
REPLAY_UNSOLVED = "reflexion+memory:replay-unsolved"
EVIDENCE = "reflexion+memory:evidence"
EVIDENCE_AND_HINDSIGHT = "reflexion+memory:evidence-and-hindsight"


@dataclass(frozen=True)
class Lane:
    """One strategy of the bench."""

    name: str
    single_attempt: bool = False
    retry_context: RetryContext | None = None
    """What a retry sees; ``None``: the run's ``--retry-context``."""
    lessons: Lessons = "none"
    """What the first attempt may recall: nothing, the lane's own memory, the task's oracle
    lesson, or what the memory lane stored on the family's earlier tasks."""
    remember: RememberPolicy | None = None
    """A memory lane's policy; its memory starts empty and lives beside the results file."""
    memory_folder: str = ""
    """The memory's folder suffix beside the results file (``.memory`` and so on)."""
    replay_unsolved: bool = False
    """A hindsight memory lane that also replays the rules of runs that never passed."""
    recall_evidence: int = 0
    """Evidence lessons its first attempt recalls (none for the lanes that keep no evidence,
    so their runs recall as they did before evidence existed)."""
    diagnostic: bool = False
    """A lane that measures one part (runnable, documented in docs/benchmarks.md), not one a
    user compares: ``bench --help`` leaves it out."""

    @property
    def resamples(self) -> bool:
        """Whether a retry is a fresh sample that sees nothing of the failure."""
        return self.retry_context == "none"

    @property
    def keeps_memory(self) -> bool:
        """Whether the lane learns across tasks (it takes the tasks in order)."""
        return self.remember is not None


_DEFAULT_EVIDENCE = ReflexionContext().recall_evidence
_EVIDENCE_POLICIES: tuple[tuple[str, RememberPolicy], ...] = (
    (EVIDENCE, "evidence"),
    (EVIDENCE_AND_HINDSIGHT, "evidence_and_hindsight"),
)


def _memory_lane(name: str, remember: RememberPolicy, folder: str, **settings: Any) -> Lane:
    """A lane with a memory of its own (in ``folder``), kept as ``remember`` keeps it."""
    return Lane(name, lessons="memory", remember=remember, memory_folder=folder, **settings)


LANES = (
    Lane(SINGLE, single_attempt=True),
    Lane(RETRY, retry_context="none"),
    Lane(REFINE, retry_context="last_attempt"),
    Lane(REFLEXION),
    _memory_lane(MEMORY, "hindsight", ".memory"),
    Lane(ORACLE, lessons="oracle"),
    _memory_lane(EVERY_FAILURE, "every_failure", ".every-failure.memory", diagnostic=True),
    Lane(FAMILY_LESSONS, lessons="family", diagnostic=True),
    _memory_lane(
        REPLAY_UNSOLVED,
        "hindsight",
        ".replay-unsolved.memory",
        replay_unsolved=True,
        diagnostic=True,
    ),
    *(
        _memory_lane(
            f"{name}{suffix}",
            policy,
            f".{name.partition(':')[2]}{suffix}.memory",
            recall_evidence=k,
            diagnostic=name != EVIDENCE_AND_HINDSIGHT or bool(suffix),
        )
        for name, policy in _EVIDENCE_POLICIES
        for suffix, k in (("", _DEFAULT_EVIDENCE), ("-k1", 1), ("-k2", 2), ("-k3", 3))
    ),
)
"""single attempt; resampling (no feedback shown); refine (the last attempt and its feedback,
no reflection: Self-Refine); Reflexion with this run's lessons; Reflexion plus cross-task
memory (starting empty; the library's remember policy: verified hindsight lessons); Reflexion
recalling the task's oracle lesson (the families' convention: the ceiling for memory); the
memory lane with the earlier policy (every lesson stored as written at failure time); Reflexion
shown the lessons ``reflexion+memory`` stored on the earlier tasks of the task's family, without
retrieval (a diagnostic: what writing lessons loses, against what retrieving them loses); the
memory lane that also keeps an unsolved run's in-run rule once its replay passes.
``retry`` and ``refine`` are the baselines Reflexion must beat. ``reflexion:<retry context>``
and ``reflexion+memory:<retry context>`` are Reflexion with that retry context."""

_BY_NAME = {lane.name: lane for lane in LANES}
_WITH_CONTEXT = (REFLEXION, MEMORY)


def lane_of(name: str) -> Lane:
    """The lane a strategy names; a clear error for an unknown one."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    base, _, context = name.partition(":")
    if base in _WITH_CONTEXT and context in RETRY_CONTEXTS:
        lane = _BY_NAME[base]
        folder = f".{context}.memory" if lane.keeps_memory else ""
        return replace(lane, name=name, retry_context=context, memory_folder=folder)
    known = [lane.name for lane in LANES] + [
        f"{b}:<{'|'.join(RETRY_CONTEXTS)}>" for b in _WITH_CONTEXT
    ]
    raise ConfigurationError(f"unknown strategy {name!r}; known: {', '.join(known)}")
