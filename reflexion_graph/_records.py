"""JSON-native records that flow through the graph state, and the lessons memory keeps."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from reflexion_graph.errors import ConfigurationError

Outcome = Literal["pending", "passed", "improved", "not_improved", "unused"]
"""What happened on the attempt that followed a reflection."""

Primitive = str | int | float | bool

CheckKind = Literal["value", "condition", "argument", "answer"]
"""What a failed check tested: the value a call returns; a condition that had to hold; an
argument of a tool call; or a final answer."""


class FailedCheck(TypedDict):
    """One check an attempt failed, as its evaluator saw it (never parsed back from feedback)."""

    kind: CheckKind
    """What the check tested."""
    check: str
    """The call (``line_total(3.5, 2)``), the condition (``assert is_valid('x')``), the
    argument (``set_temperature(target=...)``) or the answer checked."""
    expected: str
    """What it had to give, as Python writes it; ``""`` when the check states no value."""
    actual: str
    """What the attempt gave instead; ``""`` when it raised or gave nothing to show."""
    error: str
    """The error raised instead (``ValueError: invalid price``); ``""`` when none."""


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
    """Where the verdict came from: ``tests``, ``checker``, ``judge``, ``human``, ...; a
    composite's sources joined by ``+`` (read them with :func:`sources_of`)."""
    checks: NotRequired[list[FailedCheck]]
    """The checks the attempt failed, as records (evaluators that run checks fill it)."""
    findings: NotRequired[list[str]]
    """Changes to the failed answer that made it pass every check, found without a model,
    each what to do with the change as code ("Every check passes once `has_tag` starts with
    `tag = tag.lower()` ...")."""
    changes: NotRequired[list[dict[str, Any]]]
    """The verified findings as records (``reflexion_graph.findings.Finding.to_record()``):
    what memory keeps as conventions and a later task checks again."""
    rechecked: NotRequired[dict[str, bool]]
    """Per recalled lesson id, whether its convention, applied to this failed answer, made it
    pass every check (what credits the lesson, or counts against it)."""


class ToolStep(TypedDict):
    """One tool call an attempt made, and what the tool answered."""

    tool: str
    """The tool's name."""
    args: dict[str, Any]
    """The call's arguments."""
    result: str
    """What the tool answered (``""`` when it never answered)."""
    error: bool
    """Whether the tool answered with an error (``ToolMessage(status="error")``)."""


class Attempt(TypedDict):
    """One try of the actor together with its verdict."""

    number: int
    """1-based attempt number within the run."""
    answer: str
    """The actor's full answer."""
    evaluation: Evaluation
    """The evaluator's verdict on ``answer``."""
    steps: NotRequired[list[ToolStep]]
    """The tool calls the attempt made, in order (actors with tools)."""


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
    rule: NotRequired[str]
    """The general rule the lesson states (its ``Rule:`` line); ``""`` if none."""
    step: NotRequired[str]
    """The tool call the failure is blamed on; ``""`` for the answer itself."""
    metadata: dict[str, Primitive]
    """Primitive metadata (model id, why a fallback lesson was kept, ...)."""


LessonSource = Literal["contrast", "retry", "failure", "given", "evidence"]
"""Where a lesson's rule came from: the contrast of a failed and a passing attempt; the in-run
lesson the passing attempt saw; a lesson written at failure time; handed in by a caller; or
no rule at all: an evidence lesson, the checks a run failed, written from a template."""

ReplayVerdict = Literal["passed", "failed", "refused", "off", "none"]
"""A hindsight lesson's replay: passed or failed; ``refused`` (it gives the solution away);
``off`` (the gate was turned off); ``none`` (never replayed: not a hindsight lesson)."""


LessonState = Literal["active", "pending", "rejected", "retired", "pruned"]
"""A stored lesson's state: only an ``active`` one is recalled."""


class Lesson(TypedDict):
    """A cross-task lesson in long-term memory: a rule, its evidence and its track record.

    The model writes it once; from then on only deterministic counts change (recalls, helps,
    merges of near-duplicates), never its text.
    """

    id: str
    """Stable identifier (the memory key)."""
    text: str
    """What a later attempt is shown."""
    rule: str
    """The general rule alone (``When <situation>, <what to do>``); ``""`` if none was stated."""
    evidence: str
    """The check the lesson was learnt from, as its evaluator reported it; ``""`` if none."""
    step: str
    """The tool the failure was blamed on; ``""`` for the answer itself."""
    task: str
    """The task the lesson was learnt on."""
    scope: str
    """The memory scope that holds it (``""`` until it is stored)."""
    source: LessonSource
    """Where its rule came from."""
    replay: ReplayVerdict
    """What its replay showed before it was stored."""
    recalls: int
    """Attempts that saw it (its replay, or the retry it was written for, is the first)."""
    helped: int
    """Of those, the attempts that passed."""
    merged: int
    """Lessons merged into it, itself included."""
    created_at: str
    """ISO-8601 UTC timestamp."""
    prompt: str
    """The prompt it was written from (not kept in memory)."""
    metadata: dict[str, Primitive]
    """Anything else: the writer's model id, the full in-run lesson, a caller's own keys."""
    similarity: NotRequired[float]
    """Search results only: cosine similarity of its task to the searched one."""
    rank: NotRequired[float]
    """Search results only: the similarity scaled by usefulness, by which results are sorted."""
    state: NotRequired[LessonState]
    """Read from a memory only: whether it is recalled (``active``), and if not, why."""


def make_lesson(
    text: str,
    *,
    task: str,
    rule: str = "",
    evidence: str = "",
    step: str = "",
    source: LessonSource = "given",
    prompt: str = "",
    metadata: dict[str, Primitive] | None = None,
) -> Lesson:
    """Build a new :class:`Lesson` that no attempt has used yet (to seed a memory, say)."""
    return Lesson(
        id=uuid.uuid4().hex,
        text=text.strip(),
        rule=rule.strip(),
        evidence=evidence,
        step=step,
        task=task,
        scope="",
        source=source,
        replay="none",
        recalls=0,
        helped=0,
        merged=1,
        created_at=datetime.now(UTC).isoformat(),
        prompt=prompt,
        metadata=dict(metadata or {}),
    )


def is_evidence(lesson: Lesson) -> bool:
    """Whether a lesson is an evidence lesson: the checks a run failed, no rule."""
    return lesson["source"] == "evidence"


CONVENTIONS_KEY = "conventions"
"""The evidence lesson's metadata key for what its checks' relations say to do."""


def conventions_of(lesson: Lesson) -> list[str]:
    """What an evidence lesson's checks say to do, one instruction each (none: ``[]``)."""
    return [line for line in str(lesson["metadata"].get(CONVENTIONS_KEY, "")).split("\n") if line]


SELF_JUDGED_SOURCES = ("self-tests",)
"""Verdict sources written by the model itself: under ``auto``, a retry is a fresh sample, with
no lesson and not its failed attempt (measured on HumanEval with self-written tests:
docs/benchmarks.md, "Does reflection help?")."""


def sources_of(source: str) -> list[str]:
    """A verdict's ``source`` as the list of its sources, each once (a composite joins them)."""
    return list(dict.fromkeys(part for part in source.split(SOURCE_SEPARATOR) if part))


def joined_sources(sources: Sequence[str]) -> str:
    """The ``source`` of a verdict drawn from several: each source once, in order."""
    parts = (part for source in sources for part in sources_of(source))
    return SOURCE_SEPARATOR.join(dict.fromkeys(parts))


SOURCE_SEPARATOR = "+"
"""How a composite's ``source`` joins its parts' (the stored form)."""


def is_self_judged(source: str) -> bool:
    """Whether a verdict's sources include the model's own."""
    return any(part in SELF_JUDGED_SOURCES for part in sources_of(source))


def make_evaluation(
    passed: bool,
    score: float | None = None,
    *,
    feedback: str = "",
    aspects: dict[str, float] | None = None,
    source: str = "checker",
    checks: Sequence[FailedCheck] = (),
    findings: Sequence[str] = (),
    changes: Sequence[Mapping[str, Any]] = (),
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
        checks=[as_failed_check(check) for check in checks],
        findings=[str(finding) for finding in findings],
        changes=[dict(change) for change in changes],
    )


def make_check(
    kind: CheckKind, check: str, *, expected: str = "", actual: str = "", error: str = ""
) -> FailedCheck:
    """Build a :class:`FailedCheck`; long values are cut (a check is an example, not a dump)."""
    return as_failed_check(
        {"kind": kind, "check": check, "expected": expected, "actual": actual, "error": error}
    )


CHECK_KINDS: tuple[CheckKind, ...] = ("value", "condition", "argument", "answer")
MAX_CHECK_CHARS = 200
"""How much of each part of a check is kept."""


def as_failed_check(check: Mapping[str, Any]) -> FailedCheck:
    """``check`` validated as a :class:`FailedCheck`, each part at most ``MAX_CHECK_CHARS``."""
    if not isinstance(check, Mapping) or check.get("kind") not in CHECK_KINDS:
        raise ConfigurationError(
            f"a failed check must be a mapping with 'kind' in {CHECK_KINDS}, got {check!r}"
        )
    part = {name: _part(check, name) for name in ("check", "expected", "actual", "error")}
    if not part["check"]:
        raise ConfigurationError("a failed check must say what was checked ('check')")
    return FailedCheck(
        kind=check["kind"],
        check=part["check"],
        expected=part["expected"],
        actual=part["actual"],
        error=part["error"],
    )


def _part(check: Mapping[str, Any], name: str) -> str:
    value = check.get(name, "")
    if not isinstance(value, str):
        raise ConfigurationError(f"failed check {name!r} must be a string, got {value!r}")
    return _cut(" ".join(value.split()))


def _cut(text: str) -> str:
    return text if len(text) <= MAX_CHECK_CHARS else text[: MAX_CHECK_CHARS - 3] + "..."


def make_reflection(
    text: str,
    *,
    task: str,
    attempt: int,
    prompt: str = "",
    rule: str = "",
    step: str = "",
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
        rule=rule.strip(),
        step=step,
        metadata=dict(metadata or {}),
    )


def rule_of_reflection(reflection: Reflection) -> str:
    """The rule an in-run lesson states (also from runs recorded before it was a field)."""
    return str(reflection.get("rule", reflection["metadata"].get("rule", "")) or "").strip()


def step_of_reflection(reflection: Reflection) -> str:
    """The step an in-run lesson is blamed on (also from runs recorded before the field)."""
    return str(reflection.get("step", reflection["metadata"].get("step", "")) or "")


def _check_unit_interval(name: str, value: float) -> None:
    if not isinstance(value, int | float) or math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ConfigurationError(f"{name} must be a number in [0, 1], got {value!r}")
