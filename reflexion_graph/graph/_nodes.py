"""The graph's node functions and the decisions they make (stop, best attempt, outcomes).

Each node is a sync and an async twin taking ``(state, runtime)``; they close over the run's
components in :class:`ReflexionNodes`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime
from langgraph.types import Overwrite

from reflexion_graph._parsing import last_human_text
from reflexion_graph._records import Attempt, Evaluation, Lesson
from reflexion_graph._usage import TokenUsage, add_usage, empty_usage, metered
from reflexion_graph.actors._llm import BaseActor
from reflexion_graph.actors._request import AttemptRequest, as_result
from reflexion_graph.errors import ConfigurationError, InvalidTaskError
from reflexion_graph.evaluators import BaseEvaluator
from reflexion_graph.graph._state import ReflexionState
from reflexion_graph.loop._policy import (
    alesson_of,
    arecall,
    lesson_of,
    recall,
    rechecked,
    rechecks,
    record_attempt,
    settle_outcomes,
    shows_last_attempt,
    stop_reason,
    writes_reflections,
)
from reflexion_graph.loop._settings import ReflexionContext
from reflexion_graph.memory._base import BaseLessonMemory
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
        memory: BaseLessonMemory | None,
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
        task = task_of(state)
        return _fresh_run(task, recall(self.memory, task, self.actor.steps, context_of(runtime)))

    async def arecall(self, state: ReflexionState, runtime: ContextRuntime) -> Update:
        task = task_of(state)
        found = await arecall(self.memory, task, self.actor.steps, context_of(runtime))
        return _fresh_run(task, found)

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
            evaluation = self._rechecked(state, evaluation)
        return _judged(state, evaluation, meter.usage, context_of(runtime))

    async def aevaluate(self, state: ReflexionState, runtime: ContextRuntime) -> Update:
        with metered() as meter:
            evaluation = await self.evaluator.aevaluate(state["task"], state["answer"])
            if rechecks(evaluation, state.get("recalled") or [], state.get("attempts") or []):
                evaluation = await asyncio.to_thread(self._rechecked, state, evaluation)
        return _judged(state, evaluation, meter.usage, context_of(runtime))

    def _rechecked(self, state: ReflexionState, evaluation: Evaluation) -> Evaluation:
        """The verdict with the recalled conventions checked again (``rechecked``)."""
        recalled, earlier = state.get("recalled") or [], state.get("attempts") or []
        return rechecked(self.evaluator, state["answer"], evaluation, recalled, earlier)

    # reflect: write a lesson about the latest failed attempt (unless the retry context shows
    # none: the actor refines from the feedback alone, or samples afresh).
    def reflect(self, state: ReflexionState, runtime: ContextRuntime) -> Update:
        if not reflects_on(state, context_of(runtime)):
            return {}
        with metered() as meter:
            reflection = lesson_of(
                self.reflector, state["task"], state["attempts"][-1], state.get("reflections") or []
            )
        return {"reflections": [reflection], "usage": meter.usage}

    async def areflect(self, state: ReflexionState, runtime: ContextRuntime) -> Update:
        if not reflects_on(state, context_of(runtime)):
            return {}
        with metered() as meter:
            reflection = await alesson_of(
                self.reflector, state["task"], state["attempts"][-1], state.get("reflections") or []
            )
        return {"reflections": [reflection], "usage": meter.usage}

    # finalize: decide only: the best attempt and each reflection's outcome.
    def finalize(self, state: ReflexionState, runtime: ContextRuntime) -> Update:
        return finalized(state, self.name)

    async def afinalize(self, state: ReflexionState, runtime: ContextRuntime) -> Update:
        return finalized(state, self.name)


def reflects_on(state: ReflexionState, context: ReflexionContext) -> bool:
    """Whether the run's latest failure gets a lesson (the retry context, and its verdict)."""
    return writes_reflections(context.retry_context, state["attempts"][-1]["evaluation"])


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


def best_attempt(attempts: Sequence[Attempt]) -> Attempt | None:
    """The attempt to return: a pass beats any score, then the highest score, then earliest."""
    if not attempts:
        return None
    return max(
        attempts,
        key=lambda a: (a["evaluation"]["passed"], a["evaluation"]["score"], -a["number"]),
    )


def attempt_request(state: ReflexionState, context: ReflexionContext) -> AttemptRequest:
    """What the next attempt sees: recalled lessons, and the run's retry context."""
    window = context.reflection_window
    reflections = state.get("reflections") or []
    attempts = state.get("attempts") or []
    last = attempts[-1] if attempts else None
    shows_attempt = last is not None and shows_last_attempt(
        context.retry_context, last["evaluation"]
    )
    shows_reflections = window > 0 and writes_reflections(
        context.retry_context, last["evaluation"] if last else None
    )
    return AttemptRequest(
        task=state["task"],
        lessons=state.get("recalled") or [],
        reflections=reflections[-window:] if shows_reflections else [],
        last_attempt=last if shows_attempt else None,
        number=len(attempts) + 1,
    )


def task_of(state: Mapping[str, Any]) -> str:
    """The task: the ``task`` field, else the text of the last human message."""
    task = state.get("task")
    if task is None:
        task = last_human_text(state.get("messages", [])) or ""
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
    attempt = record_attempt(attempts, state["answer"], evaluation, state.get("steps") or [])
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
