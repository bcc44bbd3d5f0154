"""The rules of one run, as plain functions over records.

The graph's nodes and the agent middleware's hooks both call them, so a run follows the same
rules in either: what it recalls, how an attempt is recorded, when it stops, what each lesson
achieved, and what it remembers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal, NamedTuple, cast

from langgraph.types import interrupt
from typing_extensions import TypedDict

from reflexion_graph import prompts
from reflexion_graph._records import (
    Attempt,
    Evaluation,
    Lesson,
    Reflection,
    ReplayVerdict,
    ToolStep,
    is_evidence,
    is_self_judged,
    rule_of_reflection,
    step_of_reflection,
)
from reflexion_graph._usage import TokenUsage
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.findings import ChangeVerifier, Finding
from reflexion_graph.loop._evidence import changes_of, evidence_lesson
from reflexion_graph.loop._settings import (
    KEEPS_EVIDENCE,
    WRITES_RULES,
    ReflexionContext,
    RetryContext,
    StopReason,
)
from reflexion_graph.memory._base import BaseLessonMemory
from reflexion_graph.reflectors._llm import BaseReflector, found_lesson

STORED_VERDICTS: tuple[ReplayVerdict, ...] = ("passed", "off")
"""Replay verdicts of the hindsight lessons that are stored."""


class RunRecord(TypedDict):
    """A run as its rules read it: the graph's state holds these fields, the middleware's too."""

    task: str
    attempts: list[Attempt]
    reflections: list[Reflection]
    """The run's lessons; settled (each with its outcome) once the run stops."""
    recalled: list[Lesson]
    learned: list[Lesson]
    """The hindsight lessons the run wrote, each with its replay verdict."""


# -- recall -----------------------------------------------------------------------------
def recall(
    memory: BaseLessonMemory | None, task: str, steps: Sequence[str], context: ReflexionContext
) -> list[Lesson]:
    """The lessons a run starts with: rules blamed on a tool in play, similar rules, evidence."""
    if memory is None or not recalls_any(context):
        return []
    k, scope = context.recall_k, context.memory_scope
    by_step = memory.search_by_step(task, steps, k=k, scope=scope)
    by_task = memory.search(task, k=search_width(context), scope=scope)
    return recalled_lessons(task, by_step, by_task, context)


async def arecall(
    memory: BaseLessonMemory | None, task: str, steps: Sequence[str], context: ReflexionContext
) -> list[Lesson]:
    """Async twin of :func:`recall`."""
    if memory is None or not recalls_any(context):
        return []
    k, scope = context.recall_k, context.memory_scope
    by_step = await memory.asearch_by_step(task, steps, k=k, scope=scope)
    by_task = await memory.asearch(task, k=search_width(context), scope=scope)
    return recalled_lessons(task, by_step, by_task, context)


def recalls_any(context: ReflexionContext) -> bool:
    """Whether the run recalls anything: rules, evidence or both."""
    return bool(context.recall_k or context.recall_evidence)


def search_width(context: ReflexionContext) -> int:
    """How many lessons to search for, so that rules and evidence each find their share.

    Without evidence to recall, just the rules. With it, twice both, since the nearest lessons
    may be mostly of one kind.
    """
    if not context.recall_evidence:
        return context.recall_k
    return 2 * (context.recall_k + context.recall_evidence)


def recalled_lessons(
    task: str, by_step: Sequence[Lesson], by_task: Sequence[Lesson], context: ReflexionContext
) -> list[Lesson]:
    """The rules (those blamed on a tool in play first), then the evidence lessons.

    Up to ``recall_k`` rules and ``recall_evidence`` evidence lessons, each best first. A
    task's own evidence is never recalled for it: it holds the task's own expected values.
    """
    rules = [lesson for lesson in [*by_step, *by_task] if not is_evidence(lesson)]
    evidence = [lesson for lesson in by_task if is_evidence(lesson) and lesson["task"] != task]
    return [
        *first_unique(rules, context.recall_k),
        *first_unique(evidence, context.recall_evidence),
    ]


def first_unique(lessons: Sequence[Lesson], k: int) -> list[Lesson]:
    """The first ``k`` lessons, each once (a lesson can be found by its step and its task)."""
    unique: dict[str, Lesson] = {}
    for lesson in lessons:
        unique.setdefault(lesson["id"], lesson)
    return list(unique.values())[:k]


# -- attempts ---------------------------------------------------------------------------
def record_attempt(
    earlier: Sequence[Attempt], answer: str, evaluation: Evaluation, steps: Sequence[ToolStep]
) -> Attempt:
    """The next attempt of the run, with its verdict and the tool calls it made."""
    attempt = Attempt(number=len(earlier) + 1, answer=answer, evaluation=evaluation)
    if steps:
        attempt["steps"] = list(steps)
    return attempt


def shows_last_attempt(retry_context: RetryContext, verdict: Evaluation | None = None) -> bool:
    """Whether a retry sees the failed attempt and its feedback (``verdict``: the attempt's)."""
    if retry_context == "auto":
        return verdict is None or not is_self_judged(verdict["source"])
    return retry_context in ("last_attempt", "last_attempt_and_reflection")


def writes_reflections(retry_context: RetryContext, verdict: Evaluation | None = None) -> bool:
    """Whether a failure is reflected on: the reflector writes a lesson the retry sees.

    ``verdict``: the failed attempt's; under ``auto``, one the model judged itself is not.
    """
    if retry_context == "auto":
        return verdict is None or not is_self_judged(verdict["source"])
    return retry_context in ("reflections", "last_attempt_and_reflection")


def stop_reason(
    attempts: Sequence[Attempt], usage: TokenUsage, context: ReflexionContext
) -> StopReason | None:
    """Why the run must stop now, or ``None`` when another attempt is allowed."""
    if attempts and attempts[-1]["evaluation"]["passed"]:
        return "passed"
    if len(attempts) >= context.max_attempts:
        return "max_attempts"
    budget = context.max_total_tokens
    if budget and usage["total_tokens"] >= budget:
        return "token_budget"
    patience = context.plateau_patience
    if patience and len(attempts) > patience:
        before = max(a["evaluation"]["score"] for a in attempts[:-patience])
        if max(a["evaluation"]["score"] for a in attempts[-patience:]) <= before:
            return "plateau"
    return None


def settle_outcomes(
    reflections: Sequence[Reflection], attempts: Sequence[Attempt]
) -> list[Reflection]:
    """Mark each reflection with what the attempt that used it achieved."""
    by_number = {attempt["number"]: attempt for attempt in attempts}
    settled: list[Reflection] = []
    for reflection in reflections:
        before = by_number.get(reflection["attempt"])
        after = by_number.get(reflection["attempt"] + 1)
        if before is None or after is None:
            settled.append(reflection)
            continue
        delta = after["evaluation"]["score"] - before["evaluation"]["score"]
        if after["evaluation"]["passed"]:
            outcome: Literal["passed", "improved", "not_improved"] = "passed"
        else:
            outcome = "improved" if delta > 0 else "not_improved"
        metadata = {**reflection["metadata"], "score_delta": round(delta, 6)}
        settled.append({**reflection, "outcome": outcome, "metadata": metadata})
    return settled


def rechecks(verdict: Evaluation, recalled: Sequence[Lesson], earlier: Sequence[Attempt]) -> bool:
    """Whether :func:`rechecked` has anything to check (a cheap test before a thread hop)."""
    return not earlier and not verdict["passed"] and any(map(changes_of, recalled))


def rechecked(
    evaluator: object,
    answer: str,
    verdict: Evaluation,
    recalled: Sequence[Lesson],
    earlier: Sequence[Attempt],
) -> Evaluation:
    """The first failed verdict, with each recalled convention checked again on its answer.

    A recalled change that makes this answer pass every check is told to the retry (a finding
    from memory) and credits its lesson; one that does not counts against it
    (``verdict["rechecked"]``). Later attempts, passing verdicts and evaluators that cannot
    check a change (``ChangeVerifier``) are left as they are.
    """
    if earlier or verdict["passed"]:
        return verdict
    kept = [(lesson, c) for lesson in recalled for c in changes_of(lesson) if c.carries_over]
    if not kept or not isinstance(evaluator, ChangeVerifier):
        return verdict
    outcomes: dict[str, bool] = {}
    found: dict[str, Finding] = {}
    for lesson, change in kept:
        finding = evaluator.verified(answer, change, source="memory")
        outcomes[lesson["id"]] = outcomes.get(lesson["id"], False) or finding is not None
        if finding is not None:
            found.setdefault(finding.statement, finding)
    notes = [prompts.RECALLED_FINDING_FEEDBACK.format(statement=s) for s in found]
    return {
        **verdict,
        "feedback": "\n".join([verdict["feedback"], *notes]),
        "findings": [*found, *(verdict.get("findings") or [])],
        "changes": [*(f.to_record() for f in found.values()), *(verdict.get("changes") or [])],
        "rechecked": outcomes,
    }


def first_attempt_passed(run: RunRecord) -> bool:
    """Whether the attempt that saw the recalled lessons first passed: their credit."""
    attempts = run["attempts"]
    return bool(attempts) and attempts[0]["evaluation"]["passed"]


# -- the lesson of a failed attempt -----------------------------------------------------
def lesson_of(
    reflector: BaseReflector, task: str, attempt: Attempt, earlier: Sequence[Reflection]
) -> Reflection:
    """The lesson a failed attempt teaches the retry: its verdict's findings, else the reflector's.

    A finding (a verified change, the answer's form) is the lesson as it stands, with no model
    call, whatever the reflector.
    """
    if attempt["evaluation"].get("findings"):
        return found_lesson(task, attempt)
    return reflector.reflect(task, attempt, earlier=earlier)


async def alesson_of(
    reflector: BaseReflector, task: str, attempt: Attempt, earlier: Sequence[Reflection]
) -> Reflection:
    """Async twin of :func:`lesson_of`."""
    if attempt["evaluation"].get("findings"):
        return found_lesson(task, attempt)
    return await reflector.areflect(task, attempt, earlier=earlier)


# -- remember ---------------------------------------------------------------------------
class Remembered(NamedTuple):
    """What a run's remember step did."""

    stored: list[Lesson]
    """The lessons it gave the memory (as approved)."""
    added: int
    """How many the memory added (merged or already stored ones add none)."""


def remember_run(
    memory: BaseLessonMemory, run: RunRecord, context: ReflexionContext, decide: Decide
) -> Remembered:
    """Store what the run's policy keeps (as ``decide`` approves), credit what it recalled."""
    lessons = approved(lessons_to_store(run, context), context, decide)
    added = memory.save(lessons, scope=context.memory_scope) if lessons else 0
    for ids, passed in credits(run):
        memory.record_usage(ids, passed=passed, scope=context.memory_scope)
    return Remembered(lessons, _added(added, lessons))


async def aremember_run(
    memory: BaseLessonMemory, run: RunRecord, context: ReflexionContext, decide: Decide
) -> Remembered:
    """Async twin of :func:`remember_run`."""
    lessons = approved(lessons_to_store(run, context), context, decide)
    added = await memory.asave(lessons, scope=context.memory_scope) if lessons else 0
    for ids, passed in credits(run):
        await memory.arecord_usage(ids, passed=passed, scope=context.memory_scope)
    return Remembered(lessons, _added(added, lessons))


def credits(run: RunRecord) -> list[tuple[list[str], bool]]:
    """The recalled lessons' ids, grouped by the credit each earned.

    A convention checked again on the first failed answer earns what that check showed; the
    rest earn whether the first attempt passed.
    """
    attempts = run["attempts"]
    checked = (attempts[0]["evaluation"].get("rechecked") or {}) if attempts else {}
    recalled = [lesson["id"] for lesson in run["recalled"]]
    groups = [
        ([i for i in recalled if i not in checked], first_attempt_passed(run)),
        ([i for i in recalled if checked.get(i) is True], True),
        ([i for i in recalled if checked.get(i) is False], False),
    ]
    return [(ids, passed) for ids, passed in groups if ids]


def _added(added: int | None, lessons: Sequence[Lesson]) -> int:
    """What ``save`` reported; a memory whose ``save`` returns nothing added all it was given."""
    return len(lessons) if added is None else added


def lessons_to_store(run: RunRecord, context: ReflexionContext) -> list[Lesson]:
    """What the run's remember policy keeps.

    Every lesson as written; or the verified hindsight rule, the run's evidence lesson (its
    failed checks), or both.
    """
    if not context.save_lessons:
        return []
    if context.remember == "every_failure":
        return [lesson_of_failure(r) for r in run["reflections"]]
    kept: list[Lesson] = []
    if context.remember in KEEPS_EVIDENCE:
        evidence = evidence_lesson(run["task"], run["attempts"])
        kept += [evidence] if evidence else []
    if context.remember in WRITES_RULES:
        kept += [lesson for lesson in run["learned"] if lesson["replay"] in STORED_VERDICTS]
    return kept


def lesson_of_failure(reflection: Reflection) -> Lesson:
    """What ``every_failure`` memory keeps of an in-run lesson: its rule, when it states one.

    Later tasks need the convention a failure revealed, not a retelling of one task; the full
    lesson stays in ``metadata["lesson"]``. A rule blamed on a tool says which: it is recalled
    on tasks unlike this one. Its first recall is the retry it was written for.
    """
    metadata = {
        key: value
        for key, value in (reflection.get("metadata") or {}).items()
        if key not in ("rule", "step")  # runs recorded before they were fields
    }
    rule, step = rule_of_reflection(reflection), step_of_reflection(reflection)
    text = reflection["text"]
    if rule:
        metadata["lesson"] = text
        text = prompts.TOOL_RULE.format(step=step, rule=rule) if step else rule
    return Lesson(
        id=reflection["id"],
        text=text,
        rule=rule,
        evidence="",
        step=step,
        task=reflection["task"],
        scope="",
        source="failure",
        replay="none",
        recalls=1,
        helped=int(reflection["outcome"] == "passed"),
        merged=1,
        created_at=reflection["created_at"],
        prompt=reflection["prompt"],
        metadata=metadata,
    )


ApprovalDecision = bool | None | Sequence[str | Mapping[str, str]]
"""A reviewer's decision on the lessons a run would store: ``True`` (all), ``False`` or
``None`` (none), or a list of lesson ids, or of ``{"id", "text"}`` to store edited wording."""

Decide = Callable[[list[Lesson]], ApprovalDecision]
"""How an adapter asks for the decision (the graph and the middleware: :func:`ask_by_interrupt`)."""


def ask_by_interrupt(lessons: list[Lesson]) -> ApprovalDecision:
    """Ask a person with LangGraph's ``interrupt``: the run pauses until resumed with a decision.

    The interrupt comes before any memory write, so resuming never writes twice.
    """
    question = {"question": "Store these lessons in shared memory?", "lessons": lessons}
    return cast(ApprovalDecision, interrupt(question))


def approved(lessons: list[Lesson], context: ReflexionContext, decide: Decide) -> list[Lesson]:
    """The lessons to persist; with ``approve_lessons``, as ``decide`` returns."""
    if not lessons or not context.approve_lessons:
        return lessons
    decision = decide(lessons)
    if decision is True:
        return lessons
    if decision is False or decision is None:
        return []
    if isinstance(decision, list | tuple):
        by_id = {lesson["id"]: lesson for lesson in lessons}
        chosen = []
        for choice in decision:
            choice_id = choice if isinstance(choice, str) else dict(choice).get("id")
            if choice_id not in by_id:
                raise ConfigurationError(f"approval names unknown lesson {choice_id!r}")
            lesson = by_id[choice_id]
            if not isinstance(choice, str):
                lesson = {**lesson, "text": str(choice["text"])}
            chosen.append(lesson)
        return chosen
    raise ConfigurationError(
        f"resume an approval with True, False, ids or {{'id', 'text'}} items, got {decision!r}"
    )
