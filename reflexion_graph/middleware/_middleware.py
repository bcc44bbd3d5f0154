"""``ReflexionMiddleware``: recall and inject, judge and retry, and remember, as one middleware."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langchain.agents.middleware import (
    AgentMiddleware,
    ExtendedModelResponse,
    ModelRequest,
    ModelResponse,
    hook_config,
)
from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime

from reflexion_graph.evaluators import BaseEvaluator, EvaluatorFunction
from reflexion_graph.loop._settings import ReflexionContext, RememberPolicy, RetryContext
from reflexion_graph.memory._base import BaseLessonMemory
from reflexion_graph.middleware._judge import JudgeAndRetryMiddleware
from reflexion_graph.middleware._recall import RecallLessonsMiddleware
from reflexion_graph.middleware._remember import RememberOnStop
from reflexion_graph.middleware._state import DEFAULTS, ReflexionAgentState, RunMemory, Update
from reflexion_graph.reflectors._llm import BaseReflector


class ReflexionMiddleware(AgentMiddleware[ReflexionAgentState, Any, Any]):
    """Reflexion's evaluate → reflect → retry loop, and its lesson memory, for ``create_agent``.

    Three parts, each a middleware of one concern, run as one: recall and inject
    (:class:`RecallLessonsMiddleware`: ``wrap_model_call``), judge and retry
    (:class:`JudgeAndRetryMiddleware`: ``after_agent``), and remember (hindsight, storage and
    credit when the run stops).

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
    several agents at once: what a run learns about its agent lives in the run's state. A run
    another middleware ends (a call limit) stops with ``stop_reason`` ``call_limit``.
    """

    state_schema = ReflexionAgentState

    def __init__(
        self,
        *,
        evaluator: BaseEvaluator | EvaluatorFunction,
        reflector: BaseReflector | None = None,
        model: BaseChatModel | None = None,
        memory: BaseLessonMemory | None = None,
        max_attempts: int = DEFAULTS.max_attempts,
        recall_k: int = DEFAULTS.recall_k,
        recall_evidence: int = DEFAULTS.recall_evidence,
        memory_scope: str | Callable[[Runtime[Any]], str] = DEFAULTS.memory_scope,
        retry_context: RetryContext = DEFAULTS.retry_context,
        save_lessons: bool = DEFAULTS.save_lessons,
        save_reflections: bool | None = None,
        remember: RememberPolicy = DEFAULTS.remember,
        verify_by_replay: bool = DEFAULTS.verify_by_replay,
        lesson_candidates: int = DEFAULTS.lesson_candidates,
        replay_unsolved: bool = DEFAULTS.replay_unsolved,
        prune_failed_attempts: bool = False,
        name: str = "ReflexionMiddleware",
    ) -> None:
        super().__init__()
        context = ReflexionContext(
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
        shared = RunMemory(context, memory, memory_scope)
        self.recalling = RecallLessonsMiddleware(name=f"{name}.recall")
        self.recalling.memory = shared
        self.judging = JudgeAndRetryMiddleware(
            evaluator=evaluator,
            reflector=reflector,
            model=model,
            prune_failed_attempts=prune_failed_attempts,
            name=f"{name}.judge",
        )
        self.judging.context = context
        self.judging.remembering = RememberOnStop(
            shared, self.judging.evaluator, self.judging.agent_model
        )
        self._name = name

    @property
    def name(self) -> str:
        """The middleware's node-name prefix."""
        return self._name

    @property
    def context(self) -> ReflexionContext:
        """The run's settings."""
        return self.judging.context

    @property
    def evaluator(self) -> BaseEvaluator:
        """What judges the agent's answer."""
        return self.judging.evaluator

    @property
    def reflector(self) -> BaseReflector | None:
        """The reflector given (``None``: an ``LLMReflector`` on the model)."""
        return self.judging.reflector

    @property
    def model(self) -> BaseChatModel | None:
        """The model given for lessons and replays (``None``: the agent's own)."""
        return self.judging.model

    @property
    def memory(self) -> BaseLessonMemory | None:
        """The memory given (``None``: the agent's store, if any)."""
        return self.recalling.memory.memory

    def before_agent(self, state: ReflexionAgentState, runtime: Runtime[Any]) -> Update:
        """Start the run: its task, no attempts yet, nothing recalled yet."""
        return {
            **self.recalling.before_agent(state, runtime),
            **self.judging.before_agent(state, runtime),
        }

    async def abefore_agent(self, state: ReflexionAgentState, runtime: Runtime[Any]) -> Update:
        """Async twin of :meth:`before_agent`."""
        return self.before_agent(state, runtime)

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ExtendedModelResponse[Any]:
        """Call the model with the recalled lessons in its system prompt (recall's part)."""
        return self.recalling.wrap_model_call(request, handler)

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ExtendedModelResponse[Any]:
        """Async twin of :meth:`wrap_model_call`."""
        return await self.recalling.awrap_model_call(request, handler)

    @hook_config(can_jump_to=["model"])
    def after_agent(self, state: ReflexionAgentState, runtime: Runtime[Any]) -> Update:
        """Judge the answer; retry with a critique, or stop and remember (judge's part)."""
        return self.judging.after_agent(state, runtime)

    @hook_config(can_jump_to=["model"])
    async def aafter_agent(self, state: ReflexionAgentState, runtime: Runtime[Any]) -> Update:
        """Async twin of :meth:`after_agent`."""
        return await self.judging.aafter_agent(state, runtime)
