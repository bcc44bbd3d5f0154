"""The one place that knows which per-call options a provider understands."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable
from langchain_openai.chat_models.base import BaseChatOpenAI

ChatRunnable = Runnable[LanguageModelInput, BaseMessage]
OpenAIModel = TypeVar("OpenAIModel", bound=BaseChatOpenAI)


def is_openai_compatible(model: object) -> bool:
    """Whether ``model`` talks to an OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp)."""
    return isinstance(model, BaseChatOpenAI)


def with_options(
    model: BaseChatModel,
    *,
    max_tokens: int | None = None,
    stop: Sequence[str] = (),
    seed: int | None = None,
    json_schema: dict[str, Any] | None = None,
) -> ChatRunnable:
    """``model`` with per-call limits bound where the provider supports them.

    ``stop`` binds for every chat model. A reply cap, a sampling seed and a JSON schema that
    constrains decoding bind on OpenAI-compatible endpoints only; other models keep their own.
    """
    options: dict[str, Any] = {"stop": list(stop)} if stop else {}
    if is_openai_compatible(model):
        if max_tokens:
            options["max_completion_tokens"] = max_tokens
        if seed is not None:
            options["seed"] = seed
        if json_schema is not None:
            options["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "verdict", "schema": json_schema},
            }
    return model.bind(**options) if options else model


def repeatable(model: OpenAIModel) -> OpenAIModel:
    """``model`` asking its llama.cpp server to compute each prompt afresh (``cache_prompt``).

    A prompt prefix reused from an earlier request changes the numbers slightly, and a sample
    with them: on one slot, without the cache, the same request and seed get the same reply.
    """
    extra = {**(model.extra_body or {}), "cache_prompt": False}
    return model.model_copy(update={"extra_body": extra})
