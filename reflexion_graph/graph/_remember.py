"""What a finished run teaches later runs: the ``hindsight`` and ``remember`` nodes.

``hindsight`` runs the loop's :class:`~reflexion_graph.loop.Hindsight` (a rule from the
contrast of a failed and a passing attempt, kept only if its replay passes). ``remember``
stores what passed (after a human's approval when asked), credits the recalled lessons and
logs the episode. The model never rewrites a stored lesson; merging and credit are the
memory's deterministic counts.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from reflexion_graph._records import Lesson
from reflexion_graph._usage import metered
from reflexion_graph.episodes import EpisodeLog, episode_from_state
from reflexion_graph.graph._nodes import context_of
from reflexion_graph.graph._state import ReflexionState
from reflexion_graph.loop._hindsight import Hindsight
from reflexion_graph.loop._policy import aremember_run, ask_by_interrupt, remember_run
from reflexion_graph.memory._base import BaseLessonMemory

Update = dict[str, Any]


class RememberNodes:
    """The ``hindsight`` and ``remember`` nodes, closed over the run's components."""

    def __init__(
        self,
        hindsight: Hindsight,
        memory: BaseLessonMemory | None,
        episode_log: EpisodeLog | None,
        model: str,
    ) -> None:
        self.learning = hindsight
        self.memory = memory
        self.episode_log = episode_log
        self.model = model

    # hindsight: write the rule the passing attempt followed, and replay it before it is kept.
    def hindsight(self, state: ReflexionState, runtime: Runtime[Any]) -> Update:
        if self.memory is None:
            return {"learned": []}
        with metered() as meter:
            learned = self.learning.learn(state, context_of(runtime))
        return {"learned": learned, "usage": meter.usage}

    async def ahindsight(self, state: ReflexionState, runtime: Runtime[Any]) -> Update:
        if self.memory is None:
            return {"learned": []}
        with metered() as meter:
            learned = await self.learning.alearn(state, context_of(runtime))
        return {"learned": learned, "usage": meter.usage}

    # remember: store what the run learnt, credit the recalled lessons, log the episode.
    def remember(self, state: ReflexionState, runtime: Runtime[Any]) -> Update:
        stored: list[Lesson] = []
        if self.memory is not None:
            context = context_of(runtime)
            stored = remember_run(self.memory, state, context, ask_by_interrupt).stored
        self._log(state)
        return {"stored": stored}

    async def aremember(self, state: ReflexionState, runtime: Runtime[Any]) -> Update:
        stored: list[Lesson] = []
        if self.memory is not None:
            context = context_of(runtime)
            stored = (await aremember_run(self.memory, state, context, ask_by_interrupt)).stored
        self._log(state)
        return {"stored": stored}

    def _log(self, state: ReflexionState) -> None:
        if self.episode_log is not None:
            self.episode_log.write(episode_from_state(state, model=self.model))
