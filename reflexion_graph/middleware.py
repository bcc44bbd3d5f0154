"""Reflexion for ``langchain.agents.create_agent``: judge the agent's answer, reflect, retry.

One middleware, three hooks: ``before_agent`` recalls the lessons of similar earlier tasks,
``wrap_model_call`` shows them in the system prompt, and ``after_agent`` judges the final
answer with any evaluator of this library; on failure it adds the verdict and a lesson to the
conversation and jumps back to the model (tools included), and when the run stops it applies
the graph's remember policy (hindsight lessons, replayed before they are stored; credit for
the recalled ones). Needs the ``agents`` extra: ``pip install 'reflexion-graph[agents]'``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Annotated, Any, NotRequired, cast

from langchain.agents.middleware import (
    AgentMiddleware,
    AgentState,
    ModelRequest,
    ModelResponse,
    hook_config,
)
from langchain.agents.middleware.types import OmitFromInput, PrivateStateAttr
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from typing_extensions import TypedDict

from reflexion_graph import prompts
from reflexion_graph._parsing import message_text
from reflexion_graph._records import Attempt, Evaluation, Lesson, Reflection, make_evaluation
from reflexion_graph._usage import empty_usage
from reflexion_graph.actors._llm import LLMActor, bullet_list, recalled_sections
from reflexion_graph.actors._tools import tool_steps
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.evaluators import BaseEvaluator, EvaluatorFunction, as_evaluator
from reflexion_graph.graph._nodes import (
    recalled_lessons,
    recalls_any,
    search_width,
    settle_outcomes,
    stop_reason,
)
from reflexion_graph.graph._remember import RememberNodes, first_attempt_passed, lessons_to_store
from reflexion_graph.graph._state import (
    ReflexionContext,
    ReflexionState,
    RememberPolicy,
    RetryContext,
    shows_last_attempt,
    writes_reflections,
)
from reflexion_graph.memory._base import BaseReflectionMemory
from reflexion_graph.memory._store import StoreReflectionMemory
from reflexion_graph.models import model_id
from reflexion_graph.reflectors._hindsight import HindsightWriter
from reflexion_graph.reflectors._llm import BaseReflector, LLMReflector

CRITIQUE_TAG = "reflexion"
"""``additional_kwargs`` key that marks the messages this middleware adds."""
CALL_LIMIT_PREFIX = "Model call limits exceeded"
"""How ``ModelCallLimitMiddleware`` ends a run: a stop, not an answer to judge."""
_NO_USAGE = empty_usage()
_DEFAULTS = ReflexionContext()
"""The graph's per-run defaults: the middleware's settings default to the same values."""


class ReflexionSummary(TypedDict):
    """What the middleware did in a run (the agent's ``reflexion`` output)."""

    passed: bool
    attempts: int
    stop_reason: str
    score: float
    lessons_saved: int
    feedback: str
    recalled: list[str]
    """The texts of the lessons and evidence recalled from memory for this run."""
    first_attempt_passed: bool
    """Whether the first answer, the one that saw what was recalled, passed (their credit)."""


class ReflexionAgentState(AgentState[Any]):
    """The agent's state with the run's attempts, lessons and summary."""

    reflexion: NotRequired[Annotated[ReflexionSummary, OmitFromInput]]
    reflexion_task: NotRequired[Annotated[str, PrivateStateAttr]]
    reflexion_attempts: NotRequired[Annotated[list[Attempt], PrivateStateAttr]]
    reflexion_reflections: NotRequired[Annotated[list[Reflection], PrivateStateAttr]]
    reflexion_recalled: NotRequired[Annotated[list[Lesson], PrivateStateAttr]]


class ReflexionMiddleware(AgentMiddleware[ReflexionAgentState, Any, Any]):
    """Reflexion's evaluate → reflect → retry loop, and its lesson memory, for ``create_agent``.

    Args:
        evaluator: Judges the agent's final answer (a :class:`BaseEvaluator` or
            ``(task, answer) -> bool | score | Evaluation``).
        reflector: Writes the lesson after a failure; defaults to :class:`LLMReflector` on
            ``model``.
        model: The model for lessons and replays; defaults to the agent's own model.
        memory: Lessons shared across runs and threads; defaults to the agent's store
            (``create_agent(..., store=...)``) when it has one, else none.
        max_attempts: Answers the agent may give per run (the first included).
        recall_k: Rules recalled per task.
        recall_evidence: Evidence lessons (checks earlier tasks failed) recalled per task.
        memory_scope: The memory's scope, or a function of the run's ``Runtime`` giving it.
        retry_context: What a retry sees: ``"auto"`` (the verdict and a lesson, unless the
            verdict came from the model's own tests: then the lesson only),
            ``"last_attempt_and_reflection"`` (the verdict and a lesson), ``"reflections"``
            (the lesson only), ``"last_attempt"`` (the verdict only; no reflector call) or
            ``"none"`` (just "answer again"; no reflector call).
            The failed answer stays in the conversation whatever the context.
        save_reflections: Store what the run learnt in ``memory``.
        remember, verify_by_replay, lesson_candidates, replay_unsolved: the remember policy, as in
            :class:`ReflexionContext`. A replay is one call of ``model`` with the task and the
            rule alone, without the agent's tools.
        prune_failed_attempts: Drop the failed answers and critiques from the returned
            conversation once the run passes.
        name: The middleware's name (give two instances distinct names).

    A retry repeats the agent's tool calls, side effects included.
    """

    state_schema = ReflexionAgentState

    def __init__(
        self,
        *,
        evaluator: BaseEvaluator | EvaluatorFunction,
        reflector: BaseReflector | None = None,
        model: BaseChatModel | None = None,
        memory: BaseReflectionMemory | None = None,
        max_attempts: int = _DEFAULTS.max_attempts,
        recall_k: int = _DEFAULTS.recall_k,
        recall_evidence: int = _DEFAULTS.recall_evidence,
        memory_scope: str | Callable[[Runtime[Any]], str] = "global",
        retry_context: RetryContext = _DEFAULTS.retry_context,
        save_reflections: bool = _DEFAULTS.save_reflections,
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
            save_reflections=save_reflections,
            remember=remember,
            verify_by_replay=verify_by_replay,
            lesson_candidates=lesson_candidates,
            replay_unsolved=replay_unsolved,
        )
        self._system_prompt = prompts.ACTOR_SYSTEM_PROMPT

    @property
    def name(self) -> str:
        """The middleware's node-name prefix."""
        return self._name

    # before_agent: the task, and the lessons of similar earlier tasks.
    def before_agent(self, state: ReflexionAgentState, runtime: Runtime[Any]) -> dict[str, Any]:
        """Recall the lessons of similar earlier tasks; start the run's count."""
        task = task_of(state["messages"])
        memory, context = self._memory(runtime), self._context(runtime)
        if memory is None or not recalls_any(context):
            return fresh_run(runtime, task, [])
        found = memory.search(task, k=search_width(context), scope=context.memory_scope)
        return fresh_run(runtime, task, recalled_lessons(task, [], found, context))

    async def abefore_agent(
        self, state: ReflexionAgentState, runtime: Runtime[Any]
    ) -> dict[str, Any]:
        """Async twin of :meth:`before_agent`."""
        task = task_of(state["messages"])
        memory, context = self._memory(runtime), self._context(runtime)
        if memory is None or not recalls_any(context):
            return fresh_run(runtime, task, [])
        found = await memory.asearch(task, k=search_width(context), scope=context.memory_scope)
        return fresh_run(runtime, task, recalled_lessons(task, [], found, context))

    # wrap_model_call: the recalled lessons in the system prompt (fixed within a run).
    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ModelResponse[Any]:
        """Call the model with the recalled lessons in its system prompt."""
        return handler(self._with_lessons(request))

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any]:
        """Async twin of :meth:`wrap_model_call`."""
        return await handler(self._with_lessons(request))

    # after_agent: judge; retry with a critique, or stop and remember. Never jump to "end":
    # from the after_agent node it resolves to that node itself and loops.
    @hook_config(can_jump_to=["model"])
    def after_agent(self, state: ReflexionAgentState, runtime: Runtime[Any]) -> dict[str, Any]:
        """Judge the answer; retry with a critique, or stop and remember."""
        if limit_hit(state["messages"]):
            return self._stop(state, runtime, state.get("reflexion_attempts") or [], "call_limit")
        attempt = self._attempt(
            state, self.evaluator.evaluate(state_task(state), final_answer(state))
        )
        attempts = [*(state.get("reflexion_attempts") or []), attempt]
        why = stop_reason(attempts, _NO_USAGE, self.context)
        if why:
            return self._stop(state, runtime, attempts, why)
        lesson = None
        if writes_reflections(self.context.retry_context):
            lesson = self._reflector().reflect(
                state_task(state), attempt, earlier=state.get("reflexion_reflections") or []
            )
        return self._retry(state, runtime, attempts, lesson)

    @hook_config(can_jump_to=["model"])
    async def aafter_agent(
        self, state: ReflexionAgentState, runtime: Runtime[Any]
    ) -> dict[str, Any]:
        """Async twin of :meth:`after_agent`."""
        if limit_hit(state["messages"]):
            return await self._astop(
                state, runtime, state.get("reflexion_attempts") or [], "call_limit"
            )
        verdict = await self.evaluator.aevaluate(state_task(state), final_answer(state))
        attempt = self._attempt(state, verdict)
        attempts = [*(state.get("reflexion_attempts") or []), attempt]
        why = stop_reason(attempts, _NO_USAGE, self.context)
        if why:
            return await self._astop(state, runtime, attempts, why)
        lesson = None
        if writes_reflections(self.context.retry_context):
            lesson = await self._reflector().areflect(
                state_task(state), attempt, earlier=state.get("reflexion_reflections") or []
            )
        return self._retry(state, runtime, attempts, lesson)

    # -- the steps ----------------------------------------------------------------------
    def _attempt(self, state: ReflexionAgentState, evaluation: Evaluation) -> Attempt:
        number = len(state.get("reflexion_attempts") or []) + 1
        attempt = Attempt(number=number, answer=final_answer(state), evaluation=evaluation)
        steps = tool_steps(this_attempt(state["messages"]))
        if steps:
            attempt["steps"] = steps
        return attempt

    def _retry(
        self,
        state: ReflexionAgentState,
        runtime: Runtime[Any],
        attempts: list[Attempt],
        lesson: Reflection | None,
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
            "jump_to": "model",
        }

    def _stop(
        self, state: ReflexionAgentState, runtime: Runtime[Any], attempts: list[Attempt], why: str
    ) -> dict[str, Any]:
        nodes, run, graph_runtime = self._remembering(state, runtime, attempts)
        learned: list[Lesson] = nodes.hindsight(run, graph_runtime).get("learned") or []
        finished = cast(ReflexionState, {**run, "learned": learned})
        nodes.remember(finished, graph_runtime)
        return self._summary(state, runtime, attempts, why, finished)

    async def _astop(
        self, state: ReflexionAgentState, runtime: Runtime[Any], attempts: list[Attempt], why: str
    ) -> dict[str, Any]:
        nodes, run, graph_runtime = self._remembering(state, runtime, attempts)
        learned: list[Lesson] = (await nodes.ahindsight(run, graph_runtime)).get("learned") or []
        finished = cast(ReflexionState, {**run, "learned": learned})
        await nodes.aremember(finished, graph_runtime)
        return self._summary(state, runtime, attempts, why, finished)

    def _remembering(
        self, state: ReflexionAgentState, runtime: Runtime[Any], attempts: list[Attempt]
    ) -> tuple[RememberNodes, ReflexionState, Runtime[ReflexionContext]]:
        """The graph's remember policy, on this run: its nodes, its state, its context."""
        model = self._agent_model()
        nodes = RememberNodes(
            LLMActor(model, system_prompt=self._system_prompt),  # for the replays
            self.evaluator,
            HindsightWriter(model),
            self._memory(runtime),
            None,
            model_id(model),
        )
        run = cast(
            ReflexionState,
            {
                "task": state_task(state),
                "attempts": attempts,
                "reflections": settle_outcomes(state.get("reflexion_reflections") or [], attempts),
                "recalled": state.get("reflexion_recalled") or [],
            },
        )
        return nodes, run, Runtime(context=self._context(runtime), store=runtime.store)

    def _summary(
        self,
        state: ReflexionAgentState,
        runtime: Runtime[Any],
        attempts: list[Attempt],
        why: str,
        finished: ReflexionState,
    ) -> dict[str, Any]:
        last = attempts[-1]["evaluation"] if attempts else make_evaluation(False)
        memory = self._memory(runtime)
        saved = lessons_to_store(finished, self._context(runtime)) if memory else []
        summary = ReflexionSummary(
            passed=bool(last["passed"]),
            attempts=len(attempts),
            stop_reason=why,
            score=float(last["score"]),
            lessons_saved=len(saved),
            feedback=last["feedback"],
            recalled=[lesson["text"] for lesson in state.get("reflexion_recalled") or []],
            first_attempt_passed=first_attempt_passed(finished),
        )
        _emit(runtime, {"type": "summary", **summary})
        update: dict[str, Any] = {"reflexion": summary, "reflexion_attempts": attempts}
        if self.prune_failed_attempts and summary["passed"]:
            update["messages"] = pruned(state["messages"])
        return update

    # -- settings -----------------------------------------------------------------------
    def _with_lessons(self, request: ModelRequest[Any]) -> ModelRequest[Any]:
        if self.model is None:
            self.model = request.model
        if request.system_message is not None:
            self._system_prompt = message_text(request.system_message.content)
        lessons = cast(list[Lesson], request.state.get("reflexion_recalled") or [])
        if not lessons:
            return request
        base = message_text(request.system_message.content) if request.system_message else ""
        return request.override(
            system_message=SystemMessage(
                "\n\n".join(filter(None, [base, *recalled_sections(lessons)]))
            )
        )

    def _reflector(self) -> BaseReflector:
        if self.reflector is None:
            self.reflector = LLMReflector(self._agent_model())
        return self.reflector

    def _agent_model(self) -> BaseChatModel:
        """``model``, else the agent's own (seen on its first model call)."""
        if self.model is None:
            raise ConfigurationError(
                "ReflexionMiddleware needs model= when the agent makes no call"
            )
        return self.model

    def _memory(self, runtime: Runtime[Any]) -> BaseReflectionMemory | None:
        if self.memory is not None:
            return self.memory
        return StoreReflectionMemory(runtime.store) if runtime.store is not None else None

    def _context(self, runtime: Runtime[Any]) -> ReflexionContext:
        scope = self.memory_scope(runtime) if callable(self.memory_scope) else self.memory_scope
        return replace(self.context, memory_scope=scope)


def fresh_run(runtime: Runtime[Any], task: str, recalled: list[Lesson]) -> dict[str, Any]:
    """A new run's private state (checkpointed, so a resumed run keeps its count)."""
    _emit(runtime, {"type": "recalled", "lessons": [lesson["text"] for lesson in recalled]})
    return {
        "reflexion_task": task,
        "reflexion_attempts": [],
        "reflexion_reflections": [],
        "reflexion_recalled": recalled,
    }


def task_of(messages: Sequence[BaseMessage]) -> str:
    """The task: the last human message that this middleware did not write."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage) and CRITIQUE_TAG not in message.additional_kwargs:
            return message_text(message.content)
    raise ConfigurationError("ReflexionMiddleware found no human message to take as the task")


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


def this_attempt(messages: Sequence[BaseMessage]) -> Sequence[BaseMessage]:
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
    feedback = evaluation["feedback"] or prompts.NO_FEEDBACK
    notes = (
        prompts.ACTOR_RETRY_NOTES_PROMPT.format(reflections=bullet_list(reflections))
        if reflections
        else ""
    )
    if not shows_last_attempt(retry_context, evaluation):
        return prompts.AGENT_RETRY_PROMPT.format(notes=notes)
    return prompts.ACTOR_RETRY_PROMPT.format(feedback=feedback, notes=notes)


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
