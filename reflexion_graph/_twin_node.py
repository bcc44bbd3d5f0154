"""A graph node with native sync and async bodies, built on public LangChain/LangGraph APIs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.runtime import Runtime, get_runtime

State = TypeVar("State")
Update = dict[str, Any]


class TwinNode(Runnable[State, Update], Generic[State]):
    """Calls ``func(state, runtime)`` under ``invoke``, ``afunc(state, runtime)`` under ``ainvoke``.

    LangGraph coerces a plain function node to one path only (a sync function runs in a worker
    thread under ``ainvoke``; an async one cannot be invoked synchronously). The runtime (the
    run's context, store, stream writer) is handed to the body as a parameter.
    """

    def __init__(
        self,
        name: str,
        func: Callable[[State, Runtime[Any]], Update],
        afunc: Callable[[State, Runtime[Any]], Awaitable[Update]],
    ) -> None:
        self.name = name
        self.func = func
        self.afunc = afunc

    def invoke(self, input: State, config: RunnableConfig | None = None, **kwargs: Any) -> Update:
        """Run the sync body."""
        return self.func(input, get_runtime())

    async def ainvoke(
        self, input: State, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Update:
        """Run the async body."""
        return await self.afunc(input, get_runtime())
