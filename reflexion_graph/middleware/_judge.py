"""Judge and retry: the agent's final answer judged; on failure a critique and another turn.

``after_agent`` judges the answer with any evaluator of this library; on failure it adds the
verdict and a lesson to the conversation and jumps back to the model (tools included); when
the run stops (passed, out of attempts or budget, or ended by another middleware) it hands the
run to :class:`~reflexion_graph.middleware._remember.RememberOnStop`, when given one, and
returns the run's summary. Usable alone: an agent that retries until its evaluator passes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from langchain.agents.middleware import AgentMiddleware, hook_config
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime

from reflexion_graph._records import Attempt, Evaluation, Reflection, make_evaluation
from reflexion_graph._usage import TokenUsage, add_usage, empty_usage, metered
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.evaluators import BaseEvaluator, EvaluatorFunction, as_evaluator
from reflexion_graph.loop._policy import (
    RunRecord,
    alesson_of,
    first_attempt_passed,
    lesson_of,
    rechecked,
    rechecks,
    stop_reason,
    writes_reflections,
)
from reflexion_graph.loop._settings import ReflexionContext, RetryContext
from reflexion_graph.middleware._remember import Remembered, RememberOnStop
from reflexion_graph.middleware._state import (
    CRITIQUE_TAG,
    DEFAULTS,
    ReflexionAgentState,
    ReflexionSummary,
    Stop,
    Update,
    critique_text,
    emit,
    final_answer,
    finished_run,
    pruned,
    state_task,
    state_usage,
    stopped_by_another,
    texts,
    this_attempt,
)
from reflexion_graph.reflectors._llm import BaseReflector, LLMReflector


class JudgeAndRetryMiddleware(AgentMiddleware[ReflexionAgentState, Any, Any]):
    """Judge the agent's answer; on failure, a critique with a lesson and another turn.

    Example::

        agent = create_agent(model, tools, middleware=[
            JudgeAndRetryMiddleware(evaluator=CodeTestEvaluator(tests), max_attempts=3),
        ])

    Args: ``evaluator``, ``reflector``, ``model``, ``max_attempts``, ``retry_context`` and
    ``prune_failed_attempts`` as in :class:`ReflexionMiddleware`; ``remember``: what stores
    the stopped run's lessons (none: nothing is stored).
    """

    state_schema = ReflexionAgentState

    def __init__(
        self,
        *,
        evaluator: BaseEvaluator | EvaluatorFunction,
        max_attempts: int = DEFAULTS.max_attempts,
        retry_context: RetryContext = DEFAULTS.retry_context,
        reflector: BaseReflector | None = None,
        model: BaseChatModel | None = None,
        remember: RememberOnStop | None = None,
        prune_failed_attempts: bool = False,
        name: str = "JudgeAndRetryMiddleware",
    ) -> None:
        super().__init__()
        self.evaluator = as_evaluator(evaluator)
        self.reflector = reflector
        self.model = model
        self.context = ReflexionContext(max_attempts=max_attempts, retry_context=retry_context)
        self.remembering = remember
        self.prune_failed_attempts = prune_failed_attempts
        self._name = name

    @property
    def name(self) -> str:
        """The middleware's node-name prefix."""
        return self._name

    # before_agent: a fresh count (checkpointed: a resumed run keeps it).
    def before_agent(self, state: ReflexionAgentState, runtime: Runtime[Any]) -> Update:
        """Start the run: no attempts, no lessons yet."""
        return {"reflexion_attempts": [], "reflexion_reflections": []}

    async def abefore_agent(self, state: ReflexionAgentState, runtime: Runtime[Any]) -> Update:
        """Async twin of :meth:`before_agent`."""
        return self.before_agent(state, runtime)

    # after_agent: judge; retry with a critique, or stop and remember. Never jump to "end":
    # from the after_agent node it resolves to that node itself and loops.
    @hook_config(can_jump_to=["model"])
    def after_agent(self, state: ReflexionAgentState, runtime: Runtime[Any]) -> Update:
        """Judge the answer; retry with a critique, or stop and remember."""
        attempts, spent = state.get("reflexion_attempts") or [], state_usage(state)
        if stopped_by_another(state):
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
    async def aafter_agent(self, state: ReflexionAgentState, runtime: Runtime[Any]) -> Update:
        """Async twin of :meth:`after_agent`."""
        attempts, spent = state.get("reflexion_attempts") or [], state_usage(state)
        if stopped_by_another(state):
            stop = Stop(attempts, "call_limit", spent, empty_usage())
            return await self._astop(state, runtime, stop)
        with metered() as meter:
            verdict = await self.evaluator.aevaluate(state_task(state), final_answer(state))
            if rechecks(verdict, state.get("reflexion_recalled") or [], attempts):
                verdict = await asyncio.to_thread(self._rechecked, state, verdict, attempts)
            attempts = [*attempts, this_attempt(state, verdict)]
            why = stop_reason(attempts, add_usage(spent, meter.usage), self.context)
            if why:
                stop = Stop(attempts, why, add_usage(spent, meter.usage), meter.usage)
                return await self._astop(state, runtime, stop)
            lesson = None
            if writes_reflections(self.context.retry_context, verdict):
                earlier = state.get("reflexion_reflections") or []
                reflector = self._reflector(state)
                lesson = await alesson_of(reflector, state_task(state), attempts[-1], earlier)
        return self._retry(state, runtime, attempts, lesson, meter.usage)

    # -- the steps ----------------------------------------------------------------------
    def _rechecked(
        self, state: ReflexionAgentState, verdict: Evaluation, earlier: Sequence[Attempt]
    ) -> Evaluation:
        """The verdict with the recalled conventions checked again (``rechecked``)."""
        recalled = state.get("reflexion_recalled") or []
        return rechecked(self.evaluator, final_answer(state), verdict, recalled, earlier)

    def _retry(
        self,
        state: ReflexionAgentState,
        runtime: Runtime[Any],
        attempts: list[Attempt],
        lesson: Reflection | None,
        added: TokenUsage,
    ) -> Update:
        reflections = [*(state.get("reflexion_reflections") or []), *([lesson] if lesson else [])]
        emit(runtime, {"type": "verdict", "attempt": attempts[-1]["number"],
                       "answer": attempts[-1]["answer"],
                       "evaluation": attempts[-1]["evaluation"]})  # fmt: skip
        if lesson:
            emit(runtime, {"type": "lesson", "text": lesson["text"]})
        critique = HumanMessage(
            critique_text(attempts[-1]["evaluation"], reflections, self.context.retry_context),
            additional_kwargs={CRITIQUE_TAG: "critique"},
        )
        update: Update = {
            "messages": [critique],
            "reflexion_attempts": attempts,
            "reflexion_reflections": reflections,
            "reflexion_usage": added,
            "jump_to": "model",
        }
        if state.get("reflexion_replies") is not None:  # a new attempt: no replies yet
            update["reflexion_replies"] = 0
        return update

    def _stop(self, state: ReflexionAgentState, runtime: Runtime[Any], stop: Stop) -> Update:
        run = finished_run(state, stop.attempts)
        done = self.remembering.remember(state, runtime, run) if self.remembering else None
        return self._summary(state, runtime, run, stop, done)

    async def _astop(self, state: ReflexionAgentState, runtime: Runtime[Any], stop: Stop) -> Update:
        """Async twin of :meth:`_stop`."""
        run = finished_run(state, stop.attempts)
        done = await self.remembering.aremember(state, runtime, run) if self.remembering else None
        return self._summary(state, runtime, run, stop, done)

    def _summary(
        self,
        state: ReflexionAgentState,
        runtime: Runtime[Any],
        run: RunRecord,
        stop: Stop,
        done: Remembered | None,
    ) -> Update:
        if done is not None:
            stop = stop.spent(done.usage)
        attempts = run["attempts"]
        last = attempts[-1]["evaluation"] if attempts else make_evaluation(False)
        summary = ReflexionSummary(
            passed=bool(last["passed"]),
            attempts=len(attempts),
            stop_reason=stop.why,
            score=float(last["score"]),
            lessons_saved=done.added if done else 0,
            feedback=last["feedback"],
            recalled=texts(run["recalled"]),
            first_attempt_passed=first_attempt_passed(run),
            usage=stop.usage,
        )
        emit(runtime, {"type": "summary", **summary})
        update: Update = {
            "reflexion": summary,
            "reflexion_attempts": attempts,
            "reflexion_usage": stop.added,
        }
        if self.prune_failed_attempts and summary["passed"]:
            update["messages"] = pruned(state["messages"])
        return update

    def _reflector(self, state: ReflexionAgentState) -> BaseReflector:
        return self.reflector or LLMReflector(self.agent_model(state))

    def agent_model(self, state: ReflexionAgentState) -> BaseChatModel:
        """``model``, else the agent's own (as its latest call had it)."""
        model = self.model or state.get("reflexion_model")
        if model is None:
            raise ConfigurationError(
                "ReflexionMiddleware needs model= when the agent made no model call in this "
                "process (a run resumed inside after_agent, or one that never called its model)"
            )
        return model
