"""The graph's node functions and the decisions they make (stop, best attempt, outcomes).

Each node is a sync and an async twin taking ``(state, runtime)``; they close over the run's
components in :class:`ReflexionNodes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.runtime import Runtime
from langgraph.types import Overwrite

from reflexion_graph._parsing import message_text
from reflexion_graph._records import Attempt, Evaluation, Lesson, Reflection, is_evidence
from reflexion_graph._usage import TokenUsage, add_usage, empty_usage, metered
from reflexion_graph.actors._llm import BaseActor
from reflexion_graph.actors._request import AttemptRequest, as_result
from reflexion_graph.errors import ConfigurationError, InvalidTaskError
from reflexion_graph.evaluators import BaseEvaluator
from reflexion_graph.graph._state import (
    ReflexionContext,
    ReflexionState,
    StopReason,
    shows_last_attempt,
    writes_reflections,
)
from reflexion_graph.memory._base import BaseReflectionMemory
from reflexion_graph.reflectors._llm import BaseReflector

Update = dict[str, Any]
ContextRuntime = Runtime[ReflexionContext]


class ReflexionNodes:
    """The node functions, closed over the run's components (sync and async twins)."""

    def __init__(
        self,
        actor: BaseActor,
        evaluator: BaseEvaluator,
        reflector: BaseReflector,
        memory: BaseReflectionMemory | None,
        *,
        name: str = "reflexion",
    ) -> None:
        self.actor = actor
        self.evaluator = evaluator
        self.reflector = reflector
        self.memory = memory
        self.name = name
        """The graph's name: the chat reply's ``name``."""

    # recall: validate the input, reset per-run fields, fetch lessons from earlier tasks.
    # Lessons blamed on a tool the actor has come first: its tool is in play again.
    def recall(self, state: ReflexionState, runtime: ContextRuntime) -> Update:
        context, task = context_of(runtime), task_of(state)
        k, scope = context.recall_k, context.memory_scope
        if not self.memory or not recalls_any(context):
            return _fresh_run(task, [])
        by_step = self.memory.search_by_step(task, self.actor.steps, k=k, scope=scope)
        by_task = self.memory.search(task, k=search_width(context), scope=scope)
        return _fresh_run(task, recalled_lessons(task, by_step, by_task, context))

    async def arecall(self, state: ReflexionState, runtime: ContextRuntime) -> Update:
        context, task = context_of(runtime), task_of(state)
        k, scope = context.recall_k, context.memory_scope
        if not self.memory or not recalls_any(context):
            return _fresh_run(task, [])
        by_step = await self.memory.asearch_by_step(task, self.actor.steps, k=k, scope=scope)
        by_task = await self.memory.asearch(task, k=search_width(context), scope=scope)
        return _fresh_run(task, recalled_lessons(task, by_step, by_task, context))

    # actor: one attempt with the recalled lessons and the run's retry context.
    def act(self, state: ReflexionState, runtime: ContextRuntime) -> Update:
        request = attempt_request(state, context_of(runtime))
        with metered() as meter:
            made = as_result(self.actor.attempt(request))
        return {"answer": made.answer, "steps": list(made.steps), "usage": meter.usage}

    async def aact(self, state: ReflexionState, runtime: ContextRuntime) -> Update:
        request = attempt_request(state, context_of(runtime))
        with metered() as meter:
            made = as_result(await self.actor.aattempt(request))
        return {"answer": made.answer, "steps": list(made.steps), "usage": meter.usage}

    # evaluate: judge the attempt, record it, and decide whether the run stops.
    def evaluate(self, state: ReflexionState, runtime: ContextRuntime) -> Update:
        with metered() as meter:
            evaluation = self.evaluator.evaluate(state["task"], state["answer"])
        return _judged(state, evaluation, meter.usage, context_of(runtime))

    async def aevaluate(self, state: ReflexionState, runtime: ContextRuntime) -> Update:
        with metered() as meter:
            evaluation = await self.evaluator.aevaluate(state["task"], state["answer"])
        return _judged(state, evaluation, meter.usage, context_of(runtime))

    # reflect: write a lesson about the latest failed attempt (unless the retry context shows
    # none: the actor refines from the feedback alone, or samples afresh).
    def reflect(self, state: ReflexionState, runtime: ContextRuntime) -> Update:
        if not writes_reflections(context_of(runtime).retry_context):
            return {}
        with metered() as meter:
            reflection = self.reflector.reflect(
                state["task"], state["attempts"][-1], earlier=state.get("reflections") or []
            )
        return {"reflections": [reflection], "usage": meter.usage}

    async def areflect(self, state: ReflexionState, runtime: ContextRuntime) -> Update:
        if not writes_reflections(context_of(runtime).retry_context):
            return {}
        with metered() as meter:
            reflection = await self.reflector.areflect(
                state["task"], state["attempts"][-1], earlier=state.get("reflections") or []
            )
        return {"reflections": [reflection], "usage": meter.usage}

    # finalize: decide only: the best attempt and each reflection's outcome.
    def finalize(self, state: ReflexionState, runtime: ContextRuntime) -> Update:
        return finalized(state, self.name)

    async def afinalize(self, state: ReflexionState, runtime: ContextRuntime) -> Update:
        return finalized(state, self.name)


def route_after_evaluate(state: ReflexionState) -> Literal["reflect", "finalize"]:
    """Reflect and try again unless the evaluate node recorded why the run stops."""
    return "finalize" if state.get("stop_reason") else "reflect"


def context_of(runtime: ContextRuntime) -> ReflexionContext:
    """The run's context; the defaults when none was given."""
    context = runtime.context
    if context is None:
        return ReflexionContext()
    if isinstance(context, ReflexionContext):
        return context
    raise ConfigurationError(
        f"context must be a ReflexionContext or a mapping of its fields, got {context!r}"
    )


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


def best_attempt(attempts: Sequence[Attempt]) -> Attempt | None:
    """The attempt to return: a pass beats any score, then the highest score, then earliest."""
    if not attempts:
        return None
    return max(
        attempts,
        key=lambda a: (a["evaluation"]["passed"], a["evaluation"]["score"], -a["number"]),
    )


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


def attempt_request(state: ReflexionState, context: ReflexionContext) -> AttemptRequest:
    """What the next attempt sees: recalled lessons, and the run's retry context."""
    window = context.reflection_window
    reflections = state.get("reflections") or []
    attempts = state.get("attempts") or []
    last = attempts[-1] if attempts else None
    shows_attempt = last is not None and shows_last_attempt(
        context.retry_context, last["evaluation"]
    )
    shows_reflections = writes_reflections(context.retry_context) and window > 0
    return AttemptRequest(
        task=state["task"],
        lessons=state.get("recalled") or [],
        reflections=reflections[-window:] if shows_reflections else [],
        last_attempt=last if shows_attempt else None,
        number=len(attempts) + 1,
    )


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


def task_of(state: Mapping[str, Any]) -> str:
    """The task: the ``task`` field, else the text of the last human message."""
    task = state.get("task")
    if task is None:
        humans = [m for m in state.get("messages", []) if isinstance(m, HumanMessage)]
        task = message_text(humans[-1].content) if humans else ""
    if not isinstance(task, str) or not task.strip():
        raise InvalidTaskError(
            f"the input needs a non-empty 'task' (or a human message in 'messages'), got {task!r}"
        )
    return task.strip()


def _fresh_run(task: str, recalled: list[Lesson]) -> Update:
    """Start a run: a thread may hold an earlier run's fields, so overwrite them."""
    return {
        "task": task,
        "recalled": recalled,
        "learned": [],
        "attempts": Overwrite([]),
        "reflections": Overwrite([]),
        "usage": Overwrite(empty_usage()),
        "answer": "",
        "steps": [],
        "best": None,
        "stop_reason": None,
    }


def _judged(
    state: ReflexionState, evaluation: Evaluation, usage: TokenUsage, context: ReflexionContext
) -> Update:
    """Record the attempt with its verdict, and why the run stops now (if it does)."""
    attempts = state.get("attempts") or []
    attempt = Attempt(number=len(attempts) + 1, answer=state["answer"], evaluation=evaluation)
    if state.get("steps"):
        attempt["steps"] = state["steps"]
    spent = add_usage(state.get("usage"), usage)
    return {
        "attempts": [attempt],
        "usage": usage,
        "stop_reason": stop_reason([*attempts, attempt], spent, context),
    }


def finalized(state: ReflexionState, name: str) -> Update:
    """The run's decision: its best attempt (also as the chat reply), settled reflections."""
    attempts = state.get("attempts") or []
    best = best_attempt(attempts)
    return {
        "best": best,
        "reflections": Overwrite(settle_outcomes(state.get("reflections") or [], attempts)),
        "messages": [AIMessage(best["answer"] if best else "", name=name)],
    }
