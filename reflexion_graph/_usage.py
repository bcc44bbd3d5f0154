"""Counting the tokens of every chat-model call made inside a graph node."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from langchain_core.callbacks import UsageMetadataCallbackHandler
from langchain_core.outputs import LLMResult
from langchain_core.tracers.context import register_configure_hook

from reflexion_graph.graph._state import TokenUsage, empty_usage

_active_meter: ContextVar[UsageMeter | None] = ContextVar("reflexion_graph_usage", default=None)


class UsageMeter(UsageMetadataCallbackHandler):
    """A callback that sums the token usage and counts the calls of every chat model."""

    def __init__(self) -> None:
        super().__init__()
        self.model_calls = 0

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        """Count the call, then let the base handler add its usage metadata."""
        self.model_calls += 1
        super().on_llm_end(response, **kwargs)

    @property
    def usage(self) -> TokenUsage:
        """Totals over every model that answered, as a :class:`TokenUsage`."""
        usage = empty_usage()
        for per_model in self.usage_metadata.values():
            usage["input_tokens"] += per_model.get("input_tokens", 0)
            usage["output_tokens"] += per_model.get("output_tokens", 0)
            usage["total_tokens"] += per_model.get("total_tokens", 0)
        usage["model_calls"] = self.model_calls
        return usage


register_configure_hook(_active_meter, inheritable=True)


@contextmanager
def metered() -> Iterator[UsageMeter]:
    """Meter the chat-model calls made inside the ``with`` block (sync or async code)."""
    meter = UsageMeter()
    token = _active_meter.set(meter)
    try:
        yield meter
    finally:
        _active_meter.reset(token)
