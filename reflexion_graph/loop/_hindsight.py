"""Hindsight: a finished run's cross-task rule, written from a contrast and replayed.

Once a failed task has passed, one rule is written from the contrast of the last failed and
the passing attempt, and replayed: a fresh attempt shown only that rule, judged by the same
evaluator (with ``replay_unsolved``, a run that never passed has its in-run rules replayed the
same way). Only a rule whose replay passes is kept. Both adapters run it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reflexion_graph._records import (
    Attempt,
    Evaluation,
    Lesson,
    Reflection,
    ReplayVerdict,
    rule_of_reflection,
    step_of_reflection,
)
from reflexion_graph.actors._llm import BaseActor
from reflexion_graph.actors._request import AttemptRequest, as_result
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.evaluators import BaseEvaluator
from reflexion_graph.loop._policy import STORED_VERDICTS, RunRecord, record_attempt
from reflexion_graph.loop._settings import WRITES_RULES, ReflexionContext
from reflexion_graph.reflectors._hindsight import (
    BaseLessonWriter,
    hindsight_lesson,
    leaks_solution,
)


class Hindsight:
    """Writes a finished run's cross-task rule and replays it before it is kept.

    The replay is a fresh attempt by ``actor`` shown only the rule, judged by ``evaluator``.
    """

    def __init__(
        self, actor: BaseActor, evaluator: BaseEvaluator, writer: BaseLessonWriter | None
    ) -> None:
        self.actor = actor
        self.evaluator = evaluator
        self.writer = writer

    def learn(self, run: RunRecord, context: ReflexionContext) -> list[Lesson]:
        """The rules the run wrote, each with its replay verdict; none when it teaches nothing."""
        work = self._work(run, context)
        learned: list[Lesson] = []
        if work is None:
            return learned
        while (lesson := work.next_candidate(run["task"], learned)) is not None:
            replay = None
            if work.replayable(lesson):
                made = as_result(self.actor.attempt(replay_request(run, lesson)))
                verdict = self.evaluator.evaluate(run["task"], made.answer)
                replay = record_attempt([], made.answer, verdict, made.steps)
            learned.append(work.judged(lesson, replay, run))
        return learned

    async def alearn(self, run: RunRecord, context: ReflexionContext) -> list[Lesson]:
        """Async twin of :meth:`learn`."""
        work = self._work(run, context)
        learned: list[Lesson] = []
        if work is None:
            return learned
        while (lesson := await work.anext_candidate(run["task"], learned)) is not None:
            replay = None
            if work.replayable(lesson):
                made = as_result(await self.actor.aattempt(replay_request(run, lesson)))
                verdict = await self.evaluator.aevaluate(run["task"], made.answer)
                replay = record_attempt([], made.answer, verdict, made.steps)
            learned.append(work.judged(lesson, replay, run))
        return learned

    def _work(self, run: RunRecord, context: ReflexionContext) -> _Hindsight | None:
        """What the rules are written from, when the run has a lesson to write or replay."""
        if not context.save_lessons or context.remember not in WRITES_RULES:
            return None
        attempts, reflections = run["attempts"], run["reflections"]
        contrast = contrast_of(attempts)
        if contrast is None:
            if not context.replay_unsolved or not attempts or attempts[-1]["evaluation"]["passed"]:
                return None
            return _Hindsight(context, unsolved_rules(run["task"], attempts, reflections))
        if self.writer is None:
            raise ConfigurationError(
                f"remember={context.remember!r} needs a lesson writer: pass model= or "
                "lesson_writer= to create_reflexion_agent, or run with remember='evidence'"
            )
        failed, passed = contrast
        guide = reflections[-1] if reflections else None
        given = () if guide is None else retry_rule(guide, failed)
        return _Hindsight(context, given, Contrast(self.writer, failed, passed))


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


@dataclass(frozen=True)
class Contrast:
    """What a solved run's rule is written from: its last failed attempt and its passing one."""

    writer: BaseLessonWriter
    failed: Attempt
    passed: Attempt

    def write(self, task: str) -> Lesson:
        """The writer's rule for ``task``."""
        return self.writer.write(task, self.failed, self.passed)

    async def awrite(self, task: str) -> Lesson:
        """Async twin of :meth:`write`."""
        return await self.writer.awrite(task, self.failed, self.passed)


@dataclass(frozen=True)
class _Hindsight:
    """One run's hindsight work: its candidate rules, and the gate's settings.

    First the ``given`` rules, which no model call writes; then, for a run that failed and
    passed, rules the writer writes from the ``contrast`` (the last failed attempt and the
    passing one).
    """

    context: ReflexionContext
    given: tuple[Lesson, ...] = ()
    contrast: Contrast | None = None

    def next_candidate(self, task: str, learned: Sequence[Lesson]) -> Lesson | None:
        """The next rule to replay; ``None`` once one was kept or no candidate is left."""
        due = self._due(learned)
        return _new(due.write(task) if isinstance(due, Contrast) else due, learned)

    async def anext_candidate(self, task: str, learned: Sequence[Lesson]) -> Lesson | None:
        """Async twin of :meth:`next_candidate`."""
        due = self._due(learned)
        return _new(await due.awrite(task) if isinstance(due, Contrast) else due, learned)

    def replayable(self, lesson: Lesson) -> bool:
        """Whether the gate is on and the rule may be shown to a replay at all."""
        return self.context.verify_by_replay and not _refused(lesson, self._solution(""))

    def judged(self, lesson: Lesson, replay: Attempt | None, run: RunRecord) -> Lesson:
        """The rule with its replay verdict, and the step the run's last reflection blamed.

        ``replay`` is the replay's attempt (``None``: not replayed). A run that never passed
        has no solution but its replay's: a rule that gives that away is refused.
        """
        answer, verdict = (replay["answer"], replay["evaluation"]) if replay else ("", None)
        return judged_lesson(lesson, self._solution(answer), verdict, self.context, run)

    def _due(self, learned: Sequence[Lesson]) -> Lesson | Contrast | None:
        """The given rule due next, else the contrast to write one from; ``None``: stop."""
        if any(lesson["replay"] in STORED_VERDICTS for lesson in learned):
            return None
        if len(learned) >= self.context.lesson_candidates:
            return None
        return self.given[len(learned)] if len(learned) < len(self.given) else self.contrast

    def _solution(self, replay_answer: str) -> str:
        return self.contrast.passed["answer"] if self.contrast else replay_answer


def _new(candidate: Lesson | None, learned: Sequence[Lesson]) -> Lesson | None:
    """``candidate``, or ``None`` where its rule was replayed already.

    A writer asked again often writes the same rule; replaying it again would only sample its
    verdict anew, and asking once more would write it once more.
    """
    if candidate is None or any(candidate["rule"] == lesson["rule"] for lesson in learned):
        return None
    return candidate


def judged_lesson(
    lesson: Lesson,
    solution: str,
    replay: Evaluation | None,
    context: ReflexionContext,
    run: RunRecord,
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
    reflections = run["reflections"]
    step = step_of_reflection(reflections[-1]) if reflections else ""
    helped = int(verdict == "passed")
    return {**lesson, "replay": verdict, "step": step, "recalls": 1, "helped": helped}


def replay_request(run: RunRecord, lesson: Lesson) -> AttemptRequest:
    """A fresh first attempt that sees only the lesson's rule, not its evidence.

    A replay must not see its own task's failed check.
    """
    return AttemptRequest(task=run["task"], lessons=[{**lesson, "evidence": ""}])


def _refused(lesson: Lesson, solution: str) -> bool:
    """An empty rule, or one that gives the passing answer (``solution``) away."""
    return not lesson["text"] or leaks_solution(lesson["text"], solution)
