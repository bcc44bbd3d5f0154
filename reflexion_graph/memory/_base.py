"""The long-term (cross-task) reflection memory contract."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence

from reflexion_graph._records import Reflection


class BaseReflectionMemory(ABC):
    """Stores lessons and returns those relevant to a new task."""

    @abstractmethod
    def search(self, task: str, *, k: int, scope: str) -> list[Reflection]:
        """Return up to ``k`` lessons relevant to ``task`` within ``scope``."""

    @abstractmethod
    def save(self, reflections: Sequence[Reflection], *, scope: str) -> None:
        """Persist finished lessons (their ``outcome`` is known) within ``scope``."""

    @abstractmethod
    def record_usage(self, ids: Sequence[str], *, passed: bool, scope: str) -> None:
        """Credit recalled lessons with the outcome of the run that used them."""

    async def asearch(self, task: str, *, k: int, scope: str) -> list[Reflection]:
        """Async twin of :meth:`search`."""
        return await asyncio.to_thread(self.search, task, k=k, scope=scope)

    async def asave(self, reflections: Sequence[Reflection], *, scope: str) -> None:
        """Async twin of :meth:`save`."""
        await asyncio.to_thread(self.save, reflections, scope=scope)

    async def arecord_usage(self, ids: Sequence[str], *, passed: bool, scope: str) -> None:
        """Async twin of :meth:`record_usage`."""
        await asyncio.to_thread(self.record_usage, ids, passed=passed, scope=scope)
