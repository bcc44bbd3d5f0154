"""Counting the tokens of every chat-model call made inside a graph node."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, cast

from langchain_core.callbacks import UsageMetadataCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.ai import add_usage as add_token_usage
from langchain_core.outputs import LLMResult
from langchain_core.tracers.context import register_configure_hook


class TokenUsage(UsageMetadata):
    """LangChain's ``UsageMetadata`` summed over a run's model calls, and how many there were.

    The calls are the actor's, the reflector's and those of model-based judges.
    """

    model_calls: int


def add_usage(left: TokenUsage | None, right: TokenUsage | None) -> TokenUsage:
    """Reducer that sums two :class:`TokenUsage` records (tokens as LangChain adds them)."""
    left, right = left or empty_usage(), right or empty_usage()
    tokens = add_token_usage(_tokens(left), _tokens(right))
    return TokenUsage(**tokens, model_calls=left["model_calls"] + right["model_calls"])


def empty_usage() -> TokenUsage:
    """A :class:`TokenUsage` with every counter at zero."""
    return TokenUsage(input_tokens=0, output_tokens=0, total_tokens=0, model_calls=0)


def _tokens(usage: TokenUsage) -> UsageMetadata:
    """The token counts alone (LangChain's ``add_usage`` would sum any other key too)."""
    tokens = dict(usage)
    tokens.pop("model_calls", None)
    return cast(UsageMetadata, tokens)


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
        tokens = UsageMetadata(input_tokens=0, output_tokens=0, total_tokens=0)
        for per_model in self.usage_metadata.values():
            tokens = add_token_usage(tokens, per_model)
        return TokenUsage(**tokens, model_calls=self.model_calls)


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


def reported_usage(replies: Sequence[BaseMessage]) -> TokenUsage:
    """What a model's replies report they spent: one call per ``AIMessage``.

    Cheaper than :func:`metered` for a call whose reply is at hand: no callback runs.
    """
    usage = empty_usage()
    for reply in replies:
        if isinstance(reply, AIMessage):
            tokens = reply.usage_metadata or UsageMetadata(
                input_tokens=0, output_tokens=0, total_tokens=0
            )
            usage = add_usage(usage, TokenUsage(**tokens, model_calls=1))
    return usage
