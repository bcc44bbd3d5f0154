"""The long-term (cross-task) reflection memory contract."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence

from reflexion_graph._records import Lesson
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.memory._history import LessonEvent
from reflexion_graph.memory._lessons import Decision

_WIDER_SEARCH = 4


class BaseLessonMemory(ABC):
    """Stores lessons and returns those relevant to a new task."""

    @abstractmethod
    def search(self, task: str, *, k: int, scope: str) -> list[Lesson]:
        """Return up to ``k`` lessons relevant to ``task`` within ``scope``."""

    @abstractmethod
    def save(self, lessons: Sequence[Lesson], *, scope: str) -> int:
        """Persist lessons within ``scope``, each with the counts it was made with.

        Returns how many it added: a lesson merged into a stored one, or stored already (a
        replayed step), adds none.
        """

    @abstractmethod
    def record_usage(self, ids: Sequence[str], *, passed: bool, scope: str) -> None:
        """Credit recalled lessons with the outcome of the run that used them."""

    def search_by_step(
        self, task: str, steps: Sequence[str], *, k: int, scope: str
    ) -> list[Lesson]:
        """Up to ``k`` lessons blamed on one of ``steps`` (tool names), most relevant first.

        These are recalled whenever their tool is in play, however unlike the new task is. The
        default keeps the blamed lessons among a wider :meth:`search`; backends that can filter
        on metadata override it.
        """
        if k <= 0 or not steps:
            return []
        wanted = set(steps)
        found = self.search(task, k=k * _WIDER_SEARCH, scope=scope)
        return [lesson for lesson in found if lesson["step"] in wanted][:k]

    def pending(self, *, scope: str) -> list[Lesson]:
        """The lessons of ``scope`` waiting for review (a memory without review has none)."""
        return []

    def approve(
        self, ids: Sequence[str], *, scope: str, by: str | None = None, reason: str = ""
    ) -> None:
        """Let pending lessons be recalled (an unknown or rejected one: an error, no change)."""
        self.decide(ids, "approve", scope=scope, by=by, reason=reason)

    def reject(
        self, ids: Sequence[str], *, scope: str, by: str | None = None, reason: str = ""
    ) -> None:
        """Keep pending lessons, never recalled (an unknown or approved one: an error)."""
        self.decide(ids, "reject", scope=scope, by=by, reason=reason)

    def prune(
        self, ids: Sequence[str], *, scope: str, by: str | None = None, reason: str = ""
    ) -> None:
        """Hide lessons: kept with their counts and history, never recalled, restorable."""
        self.decide(ids, "prune", scope=scope, by=by, reason=reason)

    def restore(
        self, ids: Sequence[str], *, scope: str, by: str | None = None, reason: str = ""
    ) -> None:
        """Bring back retired, rejected or pruned lessons, counts kept (any other: an error)."""
        self.decide(ids, "restore", scope=scope, by=by, reason=reason)

    def decide(
        self,
        ids: Sequence[str],
        decision: Decision,
        *,
        scope: str,
        by: str | None = None,
        reason: str = "",
    ) -> None:
        """Apply a person's decision to every lesson of ``ids`` (or, on a bad id, to none).

        Each change leaves one event in the history, by ``by`` (default: the system user).
        A memory that keeps lessons for review and history overrides it; this one keeps none.
        """
        raise ConfigurationError(f"{type(self).__name__} keeps no lessons for review")

    def purge(
        self, ids: Sequence[str], *, scope: str, by: str | None = None, reason: str = ""
    ) -> None:
        """Delete lessons for good; their history stays, ending with the purge."""
        raise ConfigurationError(f"{type(self).__name__} keeps no history")

    def history(self, *, scope: str, lesson_id: str | None = None) -> list[LessonEvent]:
        """Every change to the lessons of ``scope`` (or to one), oldest first."""
        raise ConfigurationError(f"{type(self).__name__} keeps no history")

    async def asearch(self, task: str, *, k: int, scope: str) -> list[Lesson]:
        """Async twin of :meth:`search`."""
        return await asyncio.to_thread(self.search, task, k=k, scope=scope)

    async def asearch_by_step(
        self, task: str, steps: Sequence[str], *, k: int, scope: str
    ) -> list[Lesson]:
        """Async twin of :meth:`search_by_step`."""
        return await asyncio.to_thread(self.search_by_step, task, steps, k=k, scope=scope)

    async def asave(self, lessons: Sequence[Lesson], *, scope: str) -> int:
        """Async twin of :meth:`save`."""
        return await asyncio.to_thread(self.save, lessons, scope=scope)

    async def arecord_usage(self, ids: Sequence[str], *, passed: bool, scope: str) -> None:
        """Async twin of :meth:`record_usage`."""
        await asyncio.to_thread(self.record_usage, ids, passed=passed, scope=scope)
