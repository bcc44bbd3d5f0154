"""What a finished run teaches later runs: the ``hindsight`` and ``remember`` nodes.

``hindsight`` writes the run's cross-task lesson once a failed task has passed, from the
contrast of the last failed and the passing attempt, and replays it: a fresh attempt shown
only that lesson, judged by the same evaluator (with ``replay_unsolved``, a run that never
passed has its in-run rules replayed the same way). ``remember`` stores what passed (after a
human's approval when asked), credits the recalled lessons and logs the episode. The model
never rewrites a stored lesson; merging and credit are the memory's deterministic counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from reflexion_graph import prompts
from reflexion_graph._records import (
    Attempt,
    Evaluation,
    Lesson,
    Reflection,
    ReplayVerdict,
    rule_of_reflection,
    step_of_reflection,
)
from reflexion_graph._usage import metered
from reflexion_graph.actors._llm import BaseActor
from reflexion_graph.actors._request import AttemptRequest, as_result
from reflexion_graph.episodes import EpisodeLog, episode_from_state
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.evaluators import BaseEvaluator
from reflexion_graph.graph._evidence import evidence_lesson
from reflexion_graph.graph._nodes import context_of
from reflexion_graph.graph._state import (
    KEEPS_EVIDENCE,
    WRITES_RULES,
    ReflexionContext,
    ReflexionState,
)
from reflexion_graph.memory._base import BaseReflectionMemory
from reflexion_graph.reflectors._hindsight import (
    BaseLessonWriter,
    hindsight_lesson,
    leaks_solution,
)

Update = dict[str, Any]
STORED_VERDICTS: tuple[ReplayVerdict, ...] = ("passed", "off")
"""Replay verdicts of the hindsight lessons that are stored."""


class RememberNodes:
    """The ``hindsight`` and ``remember`` nodes, closed over the run's components."""

    def __init__(
        self,
        actor: BaseActor,
        evaluator: BaseEvaluator,
        writer: BaseLessonWriter | None,
        memory: BaseReflectionMemory | None,
        episode_log: EpisodeLog | None,
        model: str,
    ) -> None:
        self.actor = actor
        self.evaluator = evaluator
        self.writer = writer
        self.memory = memory
        self.episode_log = episode_log
        self.model = model

    # hindsight: write the rule the passing attempt followed, and replay it before it is kept.
    def hindsight(self, state: ReflexionState, runtime: Runtime[Any]) -> Update:
        work = self._work(state, context_of(runtime))
        if work is None:
            return {"learned": []}
        learned: list[Lesson] = []
        with metered() as meter:
            while (lesson := work.next_candidate(state["task"], learned)) is not None:
                replay = None
                if work.replayable(lesson):
                    made = as_result(self.actor.attempt(replay_request(state, lesson)))
                    replay = made.answer, self.evaluator.evaluate(state["task"], made.answer)
                learned.append(work.judged(lesson, replay, state))
        return {"learned": learned, "usage": meter.usage}

    async def ahindsight(self, state: ReflexionState, runtime: Runtime[Any]) -> Update:
        work = self._work(state, context_of(runtime))
        if work is None:
            return {"learned": []}
        learned: list[Lesson] = []
        with metered() as meter:
            while (lesson := await work.anext_candidate(state["task"], learned)) is not None:
                replay = None
                if work.replayable(lesson):
                    made = as_result(await self.actor.aattempt(replay_request(state, lesson)))
                    replay = made.answer, await self.evaluator.aevaluate(state["task"], made.answer)
                learned.append(work.judged(lesson, replay, state))
        return {"learned": learned, "usage": meter.usage}

    # remember: store what the run learnt, credit the recalled lessons, log the episode.
    def remember(self, state: ReflexionState, runtime: Runtime[Any]) -> Update:
        context = context_of(runtime)
        if self.memory:
            lessons = approved(lessons_to_store(state, context), context)
            if lessons:
                self.memory.save(lessons, scope=context.memory_scope)
            recalled = [r["id"] for r in state.get("recalled") or []]
            if recalled:
                self.memory.record_usage(
                    recalled, passed=first_attempt_passed(state), scope=context.memory_scope
                )
        self._log(state)
        return {}

    async def aremember(self, state: ReflexionState, runtime: Runtime[Any]) -> Update:
        context = context_of(runtime)
        if self.memory:
            lessons = approved(lessons_to_store(state, context), context)
            if lessons:
                await self.memory.asave(lessons, scope=context.memory_scope)
            recalled = [r["id"] for r in state.get("recalled") or []]
            if recalled:
                await self.memory.arecord_usage(
                    recalled, passed=first_attempt_passed(state), scope=context.memory_scope
                )
        self._log(state)
        return {}

    def _work(self, state: ReflexionState, context: ReflexionContext) -> _Hindsight | None:
        """What the hindsight node works from, when the run has a lesson to write or replay."""
        if not self.memory or not context.save_reflections or context.remember not in WRITES_RULES:
            return None
        attempts = state.get("attempts") or []
        reflections = state.get("reflections") or []
        contrast = contrast_of(attempts)
        if contrast is None:
            if not context.replay_unsolved or not attempts or attempts[-1]["evaluation"]["passed"]:
                return None
            return _Hindsight(context, unsolved_rules(state["task"], attempts, reflections))
        if self.writer is None:
            raise ConfigurationError(
                f"remember={context.remember!r} needs a lesson writer: pass model= or "
                "lesson_writer= to create_reflexion_agent, or run with remember='evidence'"
            )
        failed, passed = contrast
        guide = reflections[-1] if reflections else None
        given = () if guide is None else retry_rule(guide, failed)
        return _Hindsight(context, given, (self.writer, failed, passed))

    def _log(self, state: ReflexionState) -> None:
        if self.episode_log is not None:
            self.episode_log.write(episode_from_state(state, model=self.model))


def contrast_of(attempts: Sequence[Attempt]) -> tuple[Attempt, Attempt] | None:
    """``(last failed attempt, the passing one)`` when the run failed and then passed."""
    if len(attempts) < 2 or not attempts[-1]["evaluation"]["passed"]:
        return None
    return attempts[-2], attempts[-1]


def retry_rule(guide: Reflection, failed: Attempt) -> tuple[Lesson, ...]:
    """The rule of the in-run lesson the passing attempt saw, when it states one.

    It led to the pass. No model call writes it; the replay still decides whether it stands on
    its own.
    """
    rule = rule_of_reflection(guide)
    if not rule:
        return ()
    return (hindsight_lesson(rule, task=guide["task"], failed=failed, source="retry"),)


def unsolved_rules(
    task: str, attempts: Sequence[Attempt], reflections: Sequence[Reflection]
) -> tuple[Lesson, ...]:
    """A run that never passed: the distinct rules of its in-run lessons, latest first.

    Each keeps, as its evidence, the check of the attempt it was written about.
    """
    by_number = {attempt["number"]: attempt for attempt in attempts}
    rules: dict[str, Lesson] = {}
    for reflection in reversed(reflections):
        rule = rule_of_reflection(reflection)
        failed = by_number.get(reflection["attempt"], attempts[-1])
        if rule and rule not in rules:
            rules[rule] = hindsight_lesson(rule, task=task, failed=failed, source="failure")
    return tuple(rules.values())


_Contrast = tuple[BaseLessonWriter, Attempt, Attempt]
"""A solved run's writer, its last failed attempt and its passing one."""


@dataclass(frozen=True)
class _Hindsight:
    """One run's hindsight work: its candidate rules, and the gate's settings.

    First the ``given`` rules, which no model call writes; then, for a run that failed and
    passed, rules the writer writes from the ``contrast`` (the last failed attempt and the
    passing one).
    """

    context: ReflexionContext
    given: tuple[Lesson, ...] = ()
    contrast: _Contrast | None = None

    def next_candidate(self, task: str, learned: Sequence[Lesson]) -> Lesson | None:
        """The next rule to replay; ``None`` once one was kept or no candidate is left."""
        due = self._due(learned)
        if not isinstance(due, tuple):
            return due
        writer, failed, passed = due
        return writer.write(task, failed, passed)

    async def anext_candidate(self, task: str, learned: Sequence[Lesson]) -> Lesson | None:
        """Async twin of :meth:`next_candidate`."""
        due = self._due(learned)
        if not isinstance(due, tuple):
            return due
        writer, failed, passed = due
        return await writer.awrite(task, failed, passed)

    def replayable(self, lesson: Lesson) -> bool:
        """Whether the gate is on and the rule may be shown to a replay at all."""
        return self.context.verify_by_replay and not _refused(lesson, self._solution(""))

    def judged(
        self, lesson: Lesson, replay: tuple[str, Evaluation] | None, state: ReflexionState
    ) -> Lesson:
        """The rule with its replay verdict, and the step the run's last reflection blamed.

        ``replay`` is the replay's answer and verdict. A run that never passed has no solution
        but its replay's: a rule that gives that away is refused.
        """
        answer, verdict = replay if replay else ("", None)
        return judged_lesson(lesson, self._solution(answer), verdict, self.context, state)

    def _due(self, learned: Sequence[Lesson]) -> Lesson | _Contrast | None:
        """The given rule due next, else the contrast to write one from; ``None``: stop."""
        if any(lesson["replay"] in STORED_VERDICTS for lesson in learned):
            return None
        if len(learned) >= self.context.lesson_candidates:
            return None
        return self.given[len(learned)] if len(learned) < len(self.given) else self.contrast

    def _solution(self, replay_answer: str) -> str:
        return self.contrast[2]["answer"] if self.contrast else replay_answer


def judged_lesson(
    lesson: Lesson,
    solution: str,
    replay: Evaluation | None,
    context: ReflexionContext,
    state: ReflexionState,
) -> Lesson:
    """``lesson`` with its replay verdict, and the step the run's last reflection blamed.

    Its replay is its first recall, and a help when it passed.
    """
    verdict: ReplayVerdict
    if _refused(lesson, solution):
        verdict = "refused"
    elif not context.verify_by_replay:
        verdict = "off"
    else:
        verdict = "passed" if replay is not None and replay["passed"] else "failed"
    reflections = state.get("reflections") or []
    step = step_of_reflection(reflections[-1]) if reflections else ""
    helped = int(verdict == "passed")
    return {**lesson, "replay": verdict, "step": step, "recalls": 1, "helped": helped}


def replay_request(state: ReflexionState, lesson: Lesson) -> AttemptRequest:
    """A fresh first attempt that sees only the lesson's rule, not its evidence.

    A replay must not see its own task's failed check.
    """
    return AttemptRequest(task=state["task"], lessons=[{**lesson, "evidence": ""}])


def _refused(lesson: Lesson, solution: str) -> bool:
    """An empty rule, or one that gives the passing answer (``solution``) away."""
    return not lesson["text"] or leaks_solution(lesson["text"], solution)


def lessons_to_store(state: ReflexionState, context: ReflexionContext) -> list[Lesson]:
    """What the run's remember policy keeps.

    Every lesson as written; or the verified hindsight rule, the run's evidence lesson (its
    failed checks), or both.
    """
    if not context.save_reflections:
        return []
    if context.remember == "every_failure":
        return [lesson_of_failure(r) for r in state.get("reflections") or []]
    kept: list[Lesson] = []
    if context.remember in KEEPS_EVIDENCE:
        evidence = evidence_lesson(state["task"], state.get("attempts") or [])
        kept += [evidence] if evidence else []
    if context.remember in WRITES_RULES:
        learned = state.get("learned") or []
        kept += [lesson for lesson in learned if lesson["replay"] in STORED_VERDICTS]
    return kept


def first_attempt_passed(state: ReflexionState) -> bool:
    """Whether the attempt that saw the recalled lessons first passed: their credit."""
    attempts = state.get("attempts") or []
    return bool(attempts) and attempts[0]["evaluation"]["passed"]


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


def approved(lessons: list[Lesson], context: ReflexionContext) -> list[Lesson]:
    """The lessons to persist; with ``approve_lessons``, as a human decided (``interrupt``).

    The interrupt comes before any memory write, so resuming never writes twice. Resume with
    ``True`` (all), ``False`` (none), a list of lesson ids, or a list of ``{"id", "text"}``
    to store edited wording.
    """
    if not lessons or not context.approve_lessons:
        return lessons
    decision = interrupt({"question": "Store these lessons in shared memory?", "lessons": lessons})
    if decision is True:
        return lessons
    if decision is False or decision is None:
        return []
    if isinstance(decision, list):
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
