"""The Reflexion graph: recall → actor → evaluate → (reflect → actor | finalize)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage

# LangGraph's own sync+async node wrapper (as for function nodes and its prebuilt ToolNode):
# unlike RunnableLambda it does not inspect signatures on every call (overhead_bench.py).
from langgraph._internal._runnable import RunnableCallable
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode
from langgraph.pregel import Pregel
from langgraph.runtime import get_runtime
from langgraph.store.base import BaseStore
from langgraph.types import Checkpointer, Overwrite, RetryPolicy, interrupt

from reflexion_graph._actor import BaseActor, LLMActor
from reflexion_graph._memory import BaseReflectionMemory
from reflexion_graph._parsing import message_text
from reflexion_graph._records import Attempt, Reflection
from reflexion_graph._reflector import BaseReflector, LLMReflector
from reflexion_graph._state import (
    ReflexionContext,
    ReflexionInput,
    ReflexionOutput,
    ReflexionState,
    StopReason,
    empty_usage,
)
from reflexion_graph._tool_actor import GraphActor, ToolLike, create_tool_actor
from reflexion_graph._usage import metered
from reflexion_graph.episodes import EpisodeLog, episode_from_state
from reflexion_graph.errors import ConfigurationError, InvalidTaskError
from reflexion_graph.evaluators import BaseEvaluator, EvaluatorFunction, as_evaluator
from reflexion_graph.models import create_chat_model, model_id

Update = dict[str, Any]

MODEL_RETRY_POLICY = RetryPolicy(max_attempts=3, initial_interval=1.0)
"""Retries model-calling nodes on transient errors (connection drops, 5xx)."""


def create_reflexion_agent(
    model: BaseChatModel | None = None,
    *,
    evaluator: BaseEvaluator | EvaluatorFunction,
    actor: BaseActor | Pregel[Any, Any, Any, Any] | None = None,
    tools: Sequence[ToolLike] | ToolNode | None = None,
    reflector: BaseReflector | None = None,
    memory: BaseReflectionMemory | None = None,
    checkpointer: Checkpointer = None,
    store: BaseStore | None = None,
    episode_log: EpisodeLog | None = None,
    name: str = "reflexion",
) -> CompiledStateGraph[ReflexionState, ReflexionContext, ReflexionInput, ReflexionOutput]:
    """Build the compiled Reflexion graph.

    Args:
        model: Chat model for the default actor and reflector. ``None`` starts the embedded
            local model (or the endpoint configured by ``REFLEXION_GRAPH_*`` variables).
        evaluator: Judges each attempt: a :class:`BaseEvaluator` or ``(task, answer) -> bool |
            score | Evaluation``.
        actor: Makes the attempts: a :class:`BaseActor`, or any compiled graph with a
            ``messages`` channel; defaults to :class:`LLMActor` on ``model``.
        tools: Functions, ``BaseTool``s or your own ``ToolNode``: the actor becomes a
            tool-calling loop on ``model`` (see :func:`create_tool_actor`).
        reflector: Writes lessons after failures; defaults to :class:`LLMReflector`.
        memory: Long-term lesson store shared across tasks; ``None`` keeps lessons in the run.
        checkpointer: LangGraph checkpointer, for threads and resuming interrupted runs.
        store: LangGraph store handed to the compiled graph.
        episode_log: Where finished runs are appended as episodes (training data).
        name: Graph name (shown in Studio and when used as a sub-graph).

    Per-run settings (attempts, reflection window, memory scope...) go in ``context=``
    as a :class:`ReflexionContext`.
    """
    checked_evaluator = as_evaluator(evaluator)
    if actor is not None and tools is not None:
        raise ConfigurationError("give either an actor or tools, not both")
    if isinstance(actor, Pregel):
        actor = GraphActor(actor)
    if actor is None or reflector is None:
        if model is None:
            model = create_chat_model()
        if actor is None:
            actor = create_tool_actor(model, tools) if tools is not None else LLMActor(model)
        reflector = reflector or LLMReflector(model)
    model_name = model_id(model if model is not None else getattr(actor, "model", actor))
    nodes = _Nodes(actor, checked_evaluator, reflector, memory, episode_log, model_name)

    builder = StateGraph(
        ReflexionState,
        context_schema=ReflexionContext,
        input_schema=ReflexionInput,
        output_schema=ReflexionOutput,
    )
    builder.add_node(
        "recall", RunnableCallable(nodes.recall, nodes.arecall, name="recall", trace=False)
    )
    builder.add_node(
        "actor",
        RunnableCallable(nodes.act, nodes.aact, name="actor", trace=False),
        retry_policy=MODEL_RETRY_POLICY,
    )
    builder.add_node(
        "evaluate", RunnableCallable(nodes.evaluate, nodes.aevaluate, name="evaluate", trace=False)
    )
    builder.add_node(
        "reflect",
        RunnableCallable(nodes.reflect, nodes.areflect, name="reflect", trace=False),
        retry_policy=MODEL_RETRY_POLICY,
    )
    builder.add_node(
        "finalize", RunnableCallable(nodes.finalize, nodes.afinalize, name="finalize", trace=False)
    )
    builder.add_edge(START, "recall")
    builder.add_edge("recall", "actor")
    builder.add_edge("actor", "evaluate")
    builder.add_conditional_edges(
        "evaluate", route_after_evaluate, {"reflect": "reflect", "finalize": "finalize"}
    )
    builder.add_edge("reflect", "actor")
    builder.add_edge("finalize", END)
    return builder.compile(checkpointer=checkpointer, store=store, name=name)


def route_after_evaluate(state: ReflexionState) -> Literal["reflect", "finalize"]:
    """Reflect and try again unless the task passed or the budget is spent."""
    return "finalize" if stop_reason(state, _context()) else "reflect"


def stop_reason(state: ReflexionState, context: ReflexionContext) -> StopReason | None:
    """Why the run must stop now, or ``None`` when another attempt is allowed."""
    attempts = state.get("attempts") or []
    if attempts and attempts[-1]["evaluation"]["passed"]:
        return "passed"
    if len(attempts) >= context.max_attempts:
        return "max_attempts"
    budget = context.max_total_tokens
    if budget and state.get("usage", empty_usage())["total_tokens"] >= budget:
        return "token_budget"
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


def retry_inputs(state: ReflexionState, context: ReflexionContext) -> dict[str, Any]:
    """What the next attempt sees: recalled lessons, and the run's retry context."""
    window = context.reflection_window
    reflections = state.get("reflections") or []
    attempts = state.get("attempts") or []
    shows_attempt = context.retry_context != "reflections" and bool(attempts)
    shows_reflections = context.retry_context != "last_attempt" and window > 0
    return {
        "reflections": reflections[-window:] if shows_reflections else [],
        "lessons": state.get("recalled") or [],
        "last_attempt": attempts[-1] if shows_attempt else None,
    }


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


def _context() -> ReflexionContext:
    context = get_runtime(ReflexionContext).context
    if context is None:
        return ReflexionContext()
    if isinstance(context, ReflexionContext):
        return context
    raise ConfigurationError(
        f"context must be a ReflexionContext or a mapping of its fields, got {context!r}"
    )


class _Nodes:
    """The node functions, closed over the run's components (sync and async twins)."""

    def __init__(
        self,
        actor: BaseActor,
        evaluator: BaseEvaluator,
        reflector: BaseReflector,
        memory: BaseReflectionMemory | None,
        episode_log: EpisodeLog | None,
        model: str,
    ) -> None:
        self.actor = actor
        self.evaluator = evaluator
        self.reflector = reflector
        self.memory = memory
        self.episode_log = episode_log
        self.model = model

    # recall: validate the input, reset per-run fields, fetch lessons from earlier tasks.
    def recall(self, state: ReflexionState) -> Update:
        context, task = _context(), task_of(state)
        recalled = (
            self.memory.search(task, k=context.recall_k, scope=context.memory_scope)
            if self.memory and context.recall_k
            else []
        )
        return _fresh_run(task, recalled)

    async def arecall(self, state: ReflexionState) -> Update:
        context, task = _context(), task_of(state)
        recalled = (
            await self.memory.asearch(task, k=context.recall_k, scope=context.memory_scope)
            if self.memory and context.recall_k
            else []
        )
        return _fresh_run(task, recalled)

    # actor: one attempt with the recalled lessons and the run's retry context.
    def act(self, state: ReflexionState) -> Update:
        with metered() as meter:
            answer = self.actor.act(state["task"], **retry_inputs(state, _context()))
        return {"answer": answer, "usage": meter.usage}

    async def aact(self, state: ReflexionState) -> Update:
        with metered() as meter:
            answer = await self.actor.aact(state["task"], **retry_inputs(state, _context()))
        return {"answer": answer, "usage": meter.usage}

    # evaluate: judge the attempt and record it.
    def evaluate(self, state: ReflexionState) -> Update:
        with metered() as meter:
            evaluation = self.evaluator.evaluate(state["task"], state["answer"])
        return _judged(state, evaluation, meter.usage)

    async def aevaluate(self, state: ReflexionState) -> Update:
        with metered() as meter:
            evaluation = await self.evaluator.aevaluate(state["task"], state["answer"])
        return _judged(state, evaluation, meter.usage)

    # reflect: write a lesson about the latest failed attempt (unless the retry context
    # shows the last attempt alone: then the actor refines from the feedback, no lesson).
    def reflect(self, state: ReflexionState) -> Update:
        if _context().retry_context == "last_attempt":
            return {}
        earlier = state.get("reflections") or []
        with metered() as meter:
            reflection = self.reflector.reflect(
                state["task"], state["attempts"][-1], earlier=earlier
            )
        return {"reflections": [reflection], "usage": meter.usage}

    async def areflect(self, state: ReflexionState) -> Update:
        if _context().retry_context == "last_attempt":
            return {}
        earlier = state.get("reflections") or []
        with metered() as meter:
            reflection = await self.reflector.areflect(
                state["task"], state["attempts"][-1], earlier=earlier
            )
        return {"reflections": [reflection], "usage": meter.usage}

    # finalize: pick the best attempt, settle outcomes, persist lessons.
    def finalize(self, state: ReflexionState) -> Update:
        context = _context()
        final = _Final(state, context)
        if self.memory:
            lessons = _lessons_to_save(final.reflections, context)
            if lessons:
                self.memory.save(lessons, scope=context.memory_scope)
            if final.recalled_ids:
                self.memory.record_usage(
                    final.recalled_ids, passed=final.passed, scope=context.memory_scope
                )
        self._log(state, final)
        return final.update()

    async def afinalize(self, state: ReflexionState) -> Update:
        context = _context()
        final = _Final(state, context)
        if self.memory:
            lessons = _lessons_to_save(final.reflections, context)
            if lessons:
                await self.memory.asave(lessons, scope=context.memory_scope)
            if final.recalled_ids:
                await self.memory.arecord_usage(
                    final.recalled_ids, passed=final.passed, scope=context.memory_scope
                )
        self._log(state, final)
        return final.update()

    def _log(self, state: ReflexionState, final: _Final) -> None:
        if self.episode_log is not None:
            finished = {**state, "reflections": final.reflections, "stop_reason": final.stop_reason}
            self.episode_log.write(episode_from_state(finished, model=self.model))


def _lessons_to_save(reflections: list[Reflection], context: ReflexionContext) -> list[Reflection]:
    """The lessons to persist; with ``approve_lessons``, as a human decided (``interrupt``).

    The interrupt comes before any memory write, so resuming never writes twice. Resume with
    ``True`` (all), ``False`` (none), a list of lesson ids, or a list of ``{"id", "text"}``
    to store edited wording.
    """
    if not context.save_reflections or not reflections:
        return []
    if not context.approve_lessons:
        return reflections
    decision = interrupt(
        {"question": "Store these lessons in shared memory?", "lessons": reflections}
    )
    if decision is True:
        return reflections
    if decision is False or decision is None:
        return []
    if isinstance(decision, list):
        by_id = {reflection["id"]: reflection for reflection in reflections}
        approved = []
        for choice in decision:
            choice_id = choice if isinstance(choice, str) else dict(choice).get("id")
            if choice_id not in by_id:
                raise ConfigurationError(f"approval names unknown lesson {choice_id!r}")
            lesson = dict(by_id[choice_id])
            if not isinstance(choice, str):
                lesson["text"] = str(choice["text"])
            approved.append(cast(Reflection, lesson))
        return approved
    raise ConfigurationError(
        f"resume an approval with True, False, ids or {{'id', 'text'}} items, got {decision!r}"
    )


def _fresh_run(task: str, recalled: list[Reflection]) -> Update:
    """Start a run: a thread may hold an earlier run's fields, so overwrite them."""
    return {
        "task": task,
        "recalled": recalled,
        "attempts": Overwrite([]),
        "reflections": Overwrite([]),
        "usage": Overwrite(empty_usage()),
        "answer": "",
        "evaluation": None,
        "best": None,
        "stop_reason": None,
    }


def _judged(state: ReflexionState, evaluation: Any, usage: Any) -> Update:
    attempt = Attempt(
        number=len(state.get("attempts") or []) + 1,
        answer=state["answer"],
        evaluation=evaluation,
    )
    return {"evaluation": evaluation, "attempts": [attempt], "usage": usage}


class _Final:
    """What the finalize node concludes from a finished run."""

    def __init__(self, state: ReflexionState, context: ReflexionContext) -> None:
        attempts = state.get("attempts") or []
        self.best = best_attempt(attempts)
        self.stop_reason = stop_reason(state, context)
        self.passed = self.stop_reason == "passed"
        self.reflections = settle_outcomes(state.get("reflections") or [], attempts)
        self.recalled_ids = [r["id"] for r in state.get("recalled") or []]

    def update(self) -> Update:
        answer = self.best["answer"] if self.best else ""
        return {
            "best": self.best,
            "stop_reason": self.stop_reason,
            "reflections": Overwrite(self.reflections),
            "messages": [AIMessage(answer, name="reflexion")],
        }
