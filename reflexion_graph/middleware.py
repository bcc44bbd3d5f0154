"""Reflexion for ``langchain.agents.create_agent``: judge the agent's answer, reflect, retry.

One middleware, three hooks, following the graph's run policy (``graph/_run_policy.py``):
``before_agent`` starts the run; ``wrap_model_call`` recalls, on the run's first model call,
the lessons of similar earlier tasks and those blamed on a tool in play, shows them in the
system prompt and meters every call; ``after_agent`` judges the final answer with any
evaluator of this library; on failure it adds the verdict and a lesson to the conversation and
jumps back to the model (tools included), and when the run stops it applies the remember
policy (hindsight lessons, replayed before they are stored; credit for the recalled ones).
Needs the ``agents`` extra: ``pip install 'reflexion-graph[agents]'``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Annotated, Any, NamedTuple, NotRequired, cast

from langchain.agents.middleware import (
    AgentMiddleware,
    AgentState,
    ExtendedModelResponse,
    ModelRequest,
    ModelResponse,
    hook_config,
)
from langchain.agents.middleware.types import OmitFromInput, PrivateStateAttr
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.channels.untracked_value import UntrackedValue
from langgraph.runtime import Runtime
from langgraph.types import Command, Overwrite
from typing_extensions import TypedDict

from reflexion_graph import prompts
from reflexion_graph._parsing import last_human_text, message_text
from reflexion_graph._records import Attempt, Evaluation, Lesson, Reflection, make_evaluation
from reflexion_graph._usage import (
    TokenUsage,
    add_usage,
    empty_usage,
    metered,
    reported_usage,
)
from reflexion_graph.actors._llm import LLMActor, recalled_sections, retry_prompt
from reflexion_graph.actors._tools import tool_steps
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.evaluators import BaseEvaluator, EvaluatorFunction, as_evaluator
from reflexion_graph.loop._hindsight import Hindsight
from reflexion_graph.loop._policy import (
    RunRecord,
    alesson_of,
    arecall,
    aremember_run,
    ask_by_interrupt,
    first_attempt_passed,
    lesson_of,
    recall,
    rechecked,
    record_attempt,
    remember_run,
    settle_outcomes,
    shows_last_attempt,
    stop_reason,
    writes_reflections,
)
from reflexion_graph.loop._settings import ReflexionContext, RememberPolicy, RetryContext
from reflexion_graph.memory._base import BaseLessonMemory
from reflexion_graph.memory._store import StoreLessonMemory
from reflexion_graph.reflectors._hindsight import HindsightWriter
from reflexion_graph.reflectors._llm import BaseReflector, LLMReflector

CRITIQUE_TAG = "reflexion"
"""``additional_kwargs`` key that marks the messages this middleware adds."""
CALL_LIMIT_PREFIX = "Model call limits exceeded"
"""How ``ModelCallLimitMiddleware`` ends a run: a stop, not an answer to judge."""
Update = dict[str, Any]
"""A hook's state update."""
_DEFAULTS = ReflexionContext()
"""The graph's per-run defaults: the middleware's settings default to the same values."""


class ReflexionSummary(TypedDict):
    """What the middleware did in a run (the agent's ``reflexion`` output)."""

    passed: bool
    attempts: int
    stop_reason: str
    score: float
    lessons_saved: int
    """The lessons the memory added (a merged or already stored one adds none)."""
    feedback: str
    recalled: list[str]
    """The texts of the lessons and evidence recalled from memory for this run."""
    first_attempt_passed: bool
    """Whether the first answer, the one that saw what was recalled, passed (their credit)."""
    usage: TokenUsage
    """Tokens and model calls of the run: the agent's, the evaluator's, the lessons' and the
    replays'."""


class Stop(NamedTuple):
    """How a run stopped: its attempts, why, what it spent, and how much of that in this hook."""

    attempts: list[Attempt]
    why: str
    usage: TokenUsage
    added: TokenUsage

    def spent(self, more: TokenUsage) -> Stop:
        """The same stop, with ``more`` spent after it (hindsight's writing and replays)."""
        return self._replace(usage=add_usage(self.usage, more), added=add_usage(self.added, more))


def _latest(_: Any, new: Any) -> Any:
    """A field's reducer that keeps the latest write (two middlewares may write in one step)."""
    return new


class ReflexionAgentState(AgentState[Any]):
    """The agent's state with the run's attempts, lessons and summary."""

    reflexion: NotRequired[Annotated[ReflexionSummary, OmitFromInput]]
    reflexion_task: NotRequired[Annotated[str, PrivateStateAttr]]
    reflexion_attempts: NotRequired[Annotated[list[Attempt], PrivateStateAttr]]
    reflexion_reflections: NotRequired[Annotated[list[Reflection], PrivateStateAttr]]
    reflexion_recalled: NotRequired[Annotated[list[Lesson] | None, PrivateStateAttr, _latest]]
    """``None`` until the run's first model call recalls."""
    reflexion_usage: NotRequired[Annotated[TokenUsage, PrivateStateAttr, add_usage]]
    """What the run spent: each hook adds what it metered."""
    reflexion_system_prompt: NotRequired[Annotated[str, PrivateStateAttr, _latest]]
    """The agent's own system prompt, as its model calls had it (the replays use it)."""
    reflexion_model: NotRequired[
        Annotated[BaseChatModel, UntrackedValue(object, guard=False), PrivateStateAttr]
    ]
    """The agent's model, as its latest call had it (never checkpointed)."""


class ReflexionMiddleware(AgentMiddleware[ReflexionAgentState, Any, Any]):
    """Reflexion's evaluate → reflect → retry loop, and its lesson memory, for ``create_agent``.

    Args:
        evaluator: Judges the agent's final answer (a :class:`BaseEvaluator` or
            ``(task, answer) -> bool | score | Evaluation``).
        reflector: Writes the lesson after a failure; defaults to :class:`LLMReflector` on
            ``model``.
        model: The model for lessons and replays; defaults to the agent's own model (a run
            resumed inside ``after_agent``, after an interrupt, needs it given).
        memory: Lessons shared across runs and threads; defaults to the agent's store
            (``create_agent(..., store=...)``) when it has one, else none.
        max_attempts: Answers the agent may give per run (the first included).
        recall_k: Rules recalled per task (those blamed on one of the agent's tools first).
        recall_evidence: Evidence lessons (checks earlier tasks failed) recalled per task.
        memory_scope: The memory's scope, or a function of the run's ``Runtime`` giving it.
        retry_context: What a retry sees: ``"auto"`` (the verdict and a lesson, unless the
            verdict came from the model's own tests: then just "answer again"),
            ``"last_attempt_and_reflection"`` (the verdict and a lesson), ``"reflections"``
            (the lesson only), ``"last_attempt"`` (the verdict only; no reflector call) or
            ``"none"`` (just "answer again"; no reflector call).
            The failed answer stays in the conversation whatever the context.
        save_lessons: Store what the run learnt in ``memory`` (``save_reflections``, its
            earlier name, still works, with a ``DeprecationWarning``).
        remember, verify_by_replay, lesson_candidates, replay_unsolved: the remember policy, as in
            :class:`ReflexionContext`. A replay is one call of ``model`` with the task and the
            rule alone, without the agent's tools.
        prune_failed_attempts: Drop the failed answers and critiques from the returned
            conversation once the run passes.
        name: The middleware's name (give two instances distinct names).

    A retry repeats the agent's tool calls, side effects included. One instance may serve
    several agents at once: what a run learns about its agent lives in the run's state.
    """

    state_schema = ReflexionAgentState

    def __init__(
        self,
        *,
        evaluator: BaseEvaluator | EvaluatorFunction,
        reflector: BaseReflector | None = None,
        model: BaseChatModel | None = None,
        memory: BaseLessonMemory | None = None,
        max_attempts: int = _DEFAULTS.max_attempts,
        recall_k: int = _DEFAULTS.recall_k,
        recall_evidence: int = _DEFAULTS.recall_evidence,
        memory_scope: str | Callable[[Runtime[Any]], str] = _DEFAULTS.memory_scope,
        retry_context: RetryContext = _DEFAULTS.retry_context,
        save_lessons: bool = _DEFAULTS.save_lessons,
        save_reflections: bool | None = None,
        remember: RememberPolicy = _DEFAULTS.remember,
        verify_by_replay: bool = _DEFAULTS.verify_by_replay,
        lesson_candidates: int = _DEFAULTS.lesson_candidates,
        replay_unsolved: bool = _DEFAULTS.replay_unsolved,
        prune_failed_attempts: bool = False,
        name: str = "ReflexionMiddleware",
    ) -> None:
        super().__init__()
        self.evaluator = as_evaluator(evaluator)
        self.reflector = reflector
        self.model = model
        self.memory = memory
        self.memory_scope = memory_scope
        self.prune_failed_attempts = prune_failed_attempts
        self._name = name
        self.context = ReflexionContext(
            max_attempts=max_attempts,
            recall_k=recall_k,
            recall_evidence=recall_evidence,
            retry_context=retry_context,
            save_lessons=save_lessons,
            save_reflections=save_reflections,
            remember=remember,
            verify_by_replay=verify_by_replay,
            lesson_candidates=lesson_candidates,
            replay_unsolved=replay_unsolved,
        )

    @property
    def name(self) -> str:
        """The middleware's node-name prefix."""
        return self._name

    # before_agent: the task, and a fresh count (checkpointed: a resumed run keeps it).
    def before_agent(self, state: ReflexionAgentState, runtime: Runtime[Any]) -> dict[str, Any]:
        """Start the run: its task, no attempts yet, nothing recalled yet."""
        return {
            "reflexion_task": task_of(state["messages"]),
            "reflexion_attempts": [],
            "reflexion_reflections": [],
            "reflexion_recalled": None,
            "reflexion_usage": Overwrite(empty_usage()),
        }

    async def abefore_agent(
        self, state: ReflexionAgentState, runtime: Runtime[Any]
    ) -> dict[str, Any]:
        """Async twin of :meth:`before_agent`."""
        return self.before_agent(state, runtime)

    # wrap_model_call: recall on the run's first call; the lessons in the system prompt
    # (fixed within a run); the usage each reply reports.
    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ExtendedModelResponse[Any]:
        """Call the model with the recalled lessons in its system prompt."""
        earlier = run_state(request).get("reflexion_recalled")
        recalled = earlier if earlier is not None else recall(*self._recall_query(request))
        response = handler(with_lessons(request, recalled))
        return self._called(request, response, recalled if earlier is None else None)

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ExtendedModelResponse[Any]:
        """Async twin of :meth:`wrap_model_call`."""
        earlier = run_state(request).get("reflexion_recalled")
        recalled = earlier if earlier is not None else await arecall(*self._recall_query(request))
        response = await handler(with_lessons(request, recalled))
        return self._called(request, response, recalled if earlier is None else None)

    # after_agent: judge; retry with a critique, or stop and remember. Never jump to "end":
    # from the after_agent node it resolves to that node itself and loops.
    @hook_config(can_jump_to=["model"])
    def after_agent(self, state: ReflexionAgentState, runtime: Runtime[Any]) -> dict[str, Any]:
        """Judge the answer; retry with a critique, or stop and remember."""
        attempts, spent = state.get("reflexion_attempts") or [], state_usage(state)
        if limit_hit(state["messages"]):
            return self._stop(state, runtime, Stop(attempts, "call_limit", spent, empty_usage()))
        with metered() as meter:
            verdict = self.evaluator.evaluate(state_task(state), final_answer(state))
            verdict = self._rechecked(state, verdict, attempts)
            attempts = [*attempts, this_attempt(state, verdict)]
            why = stop_reason(attempts, add_usage(spent, meter.usage), self.context)
            if why:
                stop = Stop(attempts, why, add_usage(spent, meter.usage), meter.usage)
                return self._stop(state, runtime, stop)
            lesson = None
            if writes_reflections(self.context.retry_context, verdict):
                earlier = state.get("reflexion_reflections") or []
                lesson = lesson_of(self._reflector(state), state_task(state), attempts[-1], earlier)
        return self._retry(state, runtime, attempts, lesson, meter.usage)

    @hook_config(can_jump_to=["model"])
    async def aafter_agent(
        self, state: ReflexionAgentState, runtime: Runtime[Any]
    ) -> dict[str, Any]:
        """Async twin of :meth:`after_agent`."""
        attempts, spent = state.get("reflexion_attempts") or [], state_usage(state)
        if limit_hit(state["messages"]):
            return await self._astop(
                state, runtime, Stop(attempts, "call_limit", spent, empty_usage())
            )
        with metered() as meter:
            verdict = await self.evaluator.aevaluate(state_task(state), final_answer(state))
            verdict = await asyncio.to_thread(self._rechecked, state, verdict, attempts)
            attempts = [*attempts, this_attempt(state, verdict)]
            why = stop_reason(attempts, add_usage(spent, meter.usage), self.context)
            if why:
                stop = Stop(attempts, why, add_usage(spent, meter.usage), meter.usage)
                return await self._astop(state, runtime, stop)
            lesson = None
            if writes_reflections(self.context.retry_context, verdict):
                earlier = state.get("reflexion_reflections") or []
                lesson = await alesson_of(
                    self._reflector(state), state_task(state), attempts[-1], earlier
                )
        return self._retry(state, runtime, attempts, lesson, meter.usage)

    # -- the steps ----------------------------------------------------------------------
    def _rechecked(
        self, state: ReflexionAgentState, verdict: Evaluation, earlier: Sequence[Attempt]
    ) -> Evaluation:
        """The verdict with the recalled conventions checked again (``rechecked``)."""
        recalled = state.get("reflexion_recalled") or []
        return rechecked(self.evaluator, final_answer(state), verdict, recalled, earlier)

    def _recall_query(
        self, request: ModelRequest[Any]
    ) -> tuple[BaseLessonMemory | None, str, list[str], ReflexionContext]:
        """What the run's recall searches: its memory, task, the tools in play, its context."""
        task = state_task(run_state(request))
        runtime = request.runtime
        return self._memory(runtime), task, tool_names(request.tools), self._context(runtime)

    def _called(
        self,
        request: ModelRequest[Any],
        response: ModelResponse[Any],
        first_recall: list[Lesson] | None,
    ) -> ExtendedModelResponse[Any]:
        """The model's response, with what the run keeps of the call (its reported usage).

        ``first_recall``: what the run's first call recalled (``None`` on later calls).
        """
        update: dict[str, Any] = {
            "reflexion_usage": reported_usage(response.result),
            "reflexion_model": request.model,
        }
        if first_recall is not None:
            _emit(request.runtime, {"type": "recalled", "lessons": texts(first_recall)})
            system = request.system_message
            update["reflexion_recalled"] = first_recall
            update["reflexion_system_prompt"] = (
                message_text(system.content) if system else prompts.ACTOR_SYSTEM_PROMPT
            )
        return ExtendedModelResponse(model_response=response, command=Command(update=update))

    def _retry(
        self,
        state: ReflexionAgentState,
        runtime: Runtime[Any],
        attempts: list[Attempt],
        lesson: Reflection | None,
        added: TokenUsage,
    ) -> dict[str, Any]:
        reflections = [*(state.get("reflexion_reflections") or []), *([lesson] if lesson else [])]
        _emit(runtime, {"type": "verdict", "attempt": attempts[-1]["number"],
                        "answer": attempts[-1]["answer"],
                        "evaluation": attempts[-1]["evaluation"]})  # fmt: skip
        if lesson:
            _emit(runtime, {"type": "lesson", "text": lesson["text"]})
        critique = HumanMessage(
            critique_text(attempts[-1]["evaluation"], reflections, self.context.retry_context),
            additional_kwargs={CRITIQUE_TAG: "critique"},
        )
        return {
            "messages": [critique],
            "reflexion_attempts": attempts,
            "reflexion_reflections": reflections,
            "reflexion_usage": added,
            "jump_to": "model",
        }

    def _stop(self, state: ReflexionAgentState, runtime: Runtime[Any], stop: Stop) -> Update:
        run, memory, context = finished_run(state, stop.attempts), *self._remembering(runtime)
        saved, spent = 0, empty_usage()
        if memory is not None:
            with metered() as meter:
                run["learned"] = self._hindsight(state).learn(run, context)
            saved = remember_run(memory, run, context, ask_by_interrupt).added
            spent = meter.usage
        return self._summary(state, runtime, run, stop.spent(spent), saved)

    async def _astop(self, state: ReflexionAgentState, runtime: Runtime[Any], stop: Stop) -> Update:
        """Async twin of :meth:`_stop`."""
        run, memory, context = finished_run(state, stop.attempts), *self._remembering(runtime)
        saved, spent = 0, empty_usage()
        if memory is not None:
            with metered() as meter:
                run["learned"] = await self._hindsight(state).alearn(run, context)
            saved = (await aremember_run(memory, run, context, ask_by_interrupt)).added
            spent = meter.usage
        return self._summary(state, runtime, run, stop.spent(spent), saved)

    def _remembering(
        self, runtime: Runtime[Any]
    ) -> tuple[BaseLessonMemory | None, ReflexionContext]:
        """The memory a stopped run remembers in, and its context."""
        return self._memory(runtime), self._context(runtime)

    def _summary(
        self,
        state: ReflexionAgentState,
        runtime: Runtime[Any],
        run: RunRecord,
        stop: Stop,
        saved: int,
    ) -> dict[str, Any]:
        attempts = run["attempts"]
        last = attempts[-1]["evaluation"] if attempts else make_evaluation(False)
        summary = ReflexionSummary(
            passed=bool(last["passed"]),
            attempts=len(attempts),
            stop_reason=stop.why,
            score=float(last["score"]),
            lessons_saved=saved,
            feedback=last["feedback"],
            recalled=texts(run["recalled"]),
            first_attempt_passed=first_attempt_passed(run),
            usage=stop.usage,
        )
        _emit(runtime, {"type": "summary", **summary})
        update: dict[str, Any] = {
            "reflexion": summary,
            "reflexion_attempts": attempts,
            "reflexion_usage": stop.added,
        }
        if self.prune_failed_attempts and summary["passed"]:
            update["messages"] = pruned(state["messages"])
        return update

    # -- the run's components -----------------------------------------------------------
    def _hindsight(self, state: ReflexionAgentState) -> Hindsight:
        """The run's hindsight: replays by the agent's model with its system prompt alone."""
        model = self._model(state)
        system_prompt = state.get("reflexion_system_prompt") or prompts.ACTOR_SYSTEM_PROMPT
        return Hindsight(
            LLMActor(model, system_prompt=system_prompt), self.evaluator, HindsightWriter(model)
        )

    def _reflector(self, state: ReflexionAgentState) -> BaseReflector:
        return self.reflector or LLMReflector(self._model(state))

    def _model(self, state: ReflexionAgentState) -> BaseChatModel:
        """``model``, else the agent's own (as its latest call had it)."""
        model = self.model or state.get("reflexion_model")
        if model is None:
            raise ConfigurationError(
                "ReflexionMiddleware needs model= when the agent made no model call in this "
                "process (a run resumed inside after_agent, or one that never called its model)"
            )
        return model

    def _memory(self, runtime: Runtime[Any]) -> BaseLessonMemory | None:
        if self.memory is not None:
            return self.memory
        return StoreLessonMemory(runtime.store) if runtime.store is not None else None

    def _context(self, runtime: Runtime[Any]) -> ReflexionContext:
        scope = self.memory_scope(runtime) if callable(self.memory_scope) else self.memory_scope
        return replace(self.context, memory_scope=scope)


def with_lessons(request: ModelRequest[Any], lessons: Sequence[Lesson]) -> ModelRequest[Any]:
    """The request with the recalled lessons after the agent's own system prompt."""
    if not lessons:
        return request
    system = request.system_message
    base = message_text(system.content) if system else ""
    return request.override(
        system_message=SystemMessage("\n\n".join(filter(None, [base, *recalled_sections(lessons)])))
    )


def finished_run(state: ReflexionAgentState, attempts: list[Attempt]) -> RunRecord:
    """The stopped run as the remember policy reads it, its lessons settled."""
    return RunRecord(
        task=state_task(state),
        attempts=attempts,
        reflections=settle_outcomes(state.get("reflexion_reflections") or [], attempts),
        recalled=state.get("reflexion_recalled") or [],
        learned=[],
    )


def this_attempt(state: ReflexionAgentState, verdict: Evaluation) -> Attempt:
    """The agent's latest answer as the run's next attempt, with the tool calls it made."""
    earlier = state.get("reflexion_attempts") or []
    steps = tool_steps(messages_of_this_attempt(state["messages"]))
    return record_attempt(earlier, final_answer(state), verdict, steps)


def run_state(request: ModelRequest[Any]) -> ReflexionAgentState:
    """The agent's state, as a model call sees it."""
    return cast(ReflexionAgentState, request.state)


def state_usage(state: ReflexionAgentState) -> TokenUsage:
    """What the run has spent so far."""
    return state.get("reflexion_usage") or empty_usage()


def tool_names(tools: Sequence[Any]) -> list[str]:
    """The names of the tools in play (provider tools given as dicts may have none)."""
    names = [tool.get("name") if isinstance(tool, dict) else getattr(tool, "name", None)
             for tool in tools]  # fmt: skip
    return [name for name in names if isinstance(name, str) and name]


def texts(lessons: Sequence[Lesson]) -> list[str]:
    """The lessons' texts."""
    return [lesson["text"] for lesson in lessons]


def task_of(messages: Sequence[BaseMessage]) -> str:
    """The task: the last human message that this middleware did not write."""
    task = last_human_text(messages, unless_tagged=CRITIQUE_TAG)
    if task is None:
        raise ConfigurationError("ReflexionMiddleware found no human message to take as the task")
    return task


def state_task(state: ReflexionAgentState) -> str:
    """The run's task, as ``before_agent`` read it."""
    return state.get("reflexion_task") or task_of(state["messages"])


def final_answer(state: ReflexionAgentState) -> str:
    """The agent's answer: its structured response as text, else its last AI message."""
    structured = state.get("structured_response")
    if structured is not None:
        return str(structured)
    for message in reversed(state["messages"]):
        if isinstance(message, AIMessage):
            return message_text(message.content)
    return ""


def messages_of_this_attempt(messages: Sequence[BaseMessage]) -> Sequence[BaseMessage]:
    """The messages after the last human one (the task, or the critique the retry answers)."""
    humans = [i for i, message in enumerate(messages) if isinstance(message, HumanMessage)]
    return messages[humans[-1] + 1 :] if humans else messages


def limit_hit(messages: Sequence[BaseMessage]) -> bool:
    """Whether a call-limit middleware ended the run (its message is the last word)."""
    return bool(messages) and message_text(messages[-1].content).startswith(CALL_LIMIT_PREFIX)


def critique_text(
    evaluation: Evaluation, reflections: Sequence[Reflection], retry_context: RetryContext
) -> str:
    """The message a retry starts from: the verdict, the lessons, or both."""
    shown = evaluation if shows_last_attempt(retry_context, evaluation) else None
    return retry_prompt(shown, reflections)


def pruned(messages: Sequence[BaseMessage]) -> list[Any]:
    """Remove the failed answers and the critiques, keeping the task and the final answer."""
    from langchain_core.messages import RemoveMessage

    critiques = [i for i, m in enumerate(messages) if CRITIQUE_TAG in m.additional_kwargs]
    if not critiques:
        return []
    start = next(
        (i for i in range(critiques[0] - 1, -1, -1) if isinstance(messages[i], HumanMessage)), -1
    )
    doomed = messages[start + 1 : critiques[-1] + 1]
    return [RemoveMessage(id=m.id) for m in doomed if m.id]


def _emit(runtime: Runtime[Any], event: dict[str, Any]) -> None:
    """A custom stream event (``stream_mode="custom"``) for UIs."""
    writer = getattr(runtime, "stream_writer", None)
    if writer is not None:
        writer({"reflexion": event})
