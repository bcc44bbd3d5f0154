"""Remember: what a stopped run teaches later runs is stored; what it recalled is credited.

Hindsight rules are replayed before they are kept; evidence is kept as recorded; a recalled
convention checked again earns what that check showed (``reflexion_graph.loop``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime

from reflexion_graph import prompts
from reflexion_graph._records import Lesson
from reflexion_graph._usage import TokenUsage, empty_usage, metered
from reflexion_graph.actors._llm import LLMActor
from reflexion_graph.evaluators import BaseEvaluator
from reflexion_graph.loop._hindsight import Hindsight
from reflexion_graph.loop._policy import RunRecord, aremember_run, ask_by_interrupt, remember_run
from reflexion_graph.middleware._state import ReflexionAgentState, RunMemory
from reflexion_graph.reflectors._hindsight import HindsightWriter


class Remembered(NamedTuple):
    """What remembering a stopped run did: the lessons the memory added, and what it spent."""

    added: int
    learned: list[Lesson]
    usage: TokenUsage


class RememberOnStop:
    """The remember policy of a stopped run: hindsight (replayed), storage, credit.

    The replays are the agent's model with its system prompt alone, judged by ``evaluator``.
    """

    def __init__(
        self,
        memory: RunMemory,
        evaluator: BaseEvaluator,
        model: Callable[[ReflexionAgentState], BaseChatModel],
    ) -> None:
        self.memory = memory
        self.evaluator = evaluator
        self.model = model

    def remember(
        self, state: ReflexionAgentState, runtime: Runtime[Any], run: RunRecord
    ) -> Remembered:
        """Learn and store what ``run`` teaches, credit what it recalled."""
        memory, context = self.memory.of(runtime), self.memory.context_of(runtime)
        if memory is None:
            return Remembered(0, [], empty_usage())  # no memory: nothing to remember
        with metered() as meter:
            run["learned"] = self._hindsight(state).learn(run, context)
        added = remember_run(memory, run, context, ask_by_interrupt).added
        return Remembered(added, run["learned"], meter.usage)

    async def aremember(
        self, state: ReflexionAgentState, runtime: Runtime[Any], run: RunRecord
    ) -> Remembered:
        """Async twin of :meth:`remember`."""
        memory = self.memory.of(runtime)
        if memory is None:
            return Remembered(0, [], empty_usage())  # no memory: nothing to remember
        context = self.memory.context_of(runtime)
        with metered() as meter:
            learned = await self._hindsight(state).alearn(run, context)
        run["learned"] = learned
        remembered = await aremember_run(memory, run, context, ask_by_interrupt)
        return Remembered(remembered.added, learned, meter.usage)

    def _hindsight(self, state: ReflexionAgentState) -> Hindsight:
        """The run's hindsight: replays by the agent's model with its system prompt alone."""
        model = self.model(state)
        system_prompt = state.get("reflexion_system_prompt") or prompts.ACTOR_SYSTEM_PROMPT
        return Hindsight(
            LLMActor(model, system_prompt=system_prompt), self.evaluator, HindsightWriter(model)
        )
