"""Choosing the chat model: the embedded default, or any OpenAI-compatible endpoint."""

from __future__ import annotations

import functools
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from langchain_openai import ChatOpenAI

from reflexion_graph._extras import require_extra
from reflexion_graph.errors import ConfigurationError, ModelUnavailableError
from reflexion_graph.models._catalogue import DEFAULT_MODEL, catalogue_model, model_path
from reflexion_graph.models._on_first_request import (
    PLACEHOLDER_BASE_URL,
    AsyncStartingTransport,
    ServerOnFirstRequest,
    StartingTransport,
)
from reflexion_graph.models._server import EmbeddedServer, ensure_server

ENV_PREFIX = "REFLEXION_GRAPH_"


@dataclass(frozen=True, kw_only=True)
class ModelSettings:
    """Where the chat model lives. With nothing set, the embedded local model is used."""

    base_url: str | None = None
    """An OpenAI-compatible endpoint (``.../v1``): OpenAI, vLLM, Ollama, llama.cpp."""
    model: str | None = None
    """Model name at the endpoint."""
    api_key: str | None = None
    """API key for the endpoint (falls back to ``OPENAI_API_KEY``)."""
    embedded_model: str = DEFAULT_MODEL
    """Which catalogue model the embedded server serves when no endpoint is given."""
    gguf_path: Path | None = None
    """A GGUF file to serve with the embedded llama.cpp server instead of a catalogue model."""
    parallel: int = 1
    """Parallel slots of the embedded server (continuous batching)."""
    temperature: float = 0.7
    max_tokens: int = 512
    seed: int | None = None
    timeout_s: float = 120.0

    @classmethod
    def from_env(cls, **overrides: object) -> ModelSettings:
        """Read ``REFLEXION_GRAPH_{BASE_URL,MODEL,API_KEY,EMBEDDED_MODEL,GGUF,PARALLEL}``.

        Overrides that are not ``None`` win.
        """
        env = os.environ
        settings = cls(
            base_url=env.get(ENV_PREFIX + "BASE_URL") or None,
            model=env.get(ENV_PREFIX + "MODEL") or None,
            api_key=env.get(ENV_PREFIX + "API_KEY") or None,
            embedded_model=env.get(ENV_PREFIX + "EMBEDDED_MODEL") or DEFAULT_MODEL,
            gguf_path=Path(env[ENV_PREFIX + "GGUF"]) if env.get(ENV_PREFIX + "GGUF") else None,
            parallel=_int_env(ENV_PREFIX + "PARALLEL", 1),
        )
        given = {key: value for key, value in overrides.items() if value is not None}
        return replace(settings, **given)  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        """Reject contradictory or impossible settings before anything starts."""
        if self.base_url and self.gguf_path:
            raise ConfigurationError("give either a base URL or a GGUF path, not both")
        catalogue_model(self.embedded_model)  # an unknown name raises, naming the known ones
        if self.parallel < 1:
            raise ConfigurationError(f"parallel must be >= 1, got {self.parallel!r}")
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"base URL must start with http:// or https://, got {self.base_url!r}"
            )


def create_chat_model(settings: ModelSettings | None = None, *, lazy: bool = False) -> ChatOpenAI:
    """A ``ChatOpenAI`` for the configured endpoint, starting the embedded server if needed.

    With ``lazy``, the embedded server starts on the model's first request instead of now
    (off the event loop on the async path): for graphs built inside a server's event loop,
    such as ``langgraph dev``'s graph factory. An endpoint is never started, so it is unaffected.
    """
    settings = settings or ModelSettings.from_env()
    clients: dict[str, Any] = {}
    if settings.base_url:
        base_url = settings.base_url
        model = settings.model or "gpt-4o-mini"
        api_key = settings.api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"
    elif lazy:
        launcher = ServerOnFirstRequest(functools.partial(start_embedded_server, settings))
        base_url, model, api_key = PLACEHOLDER_BASE_URL, _embedded_alias(settings), "not-needed"
        clients = {
            "http_client": httpx.Client(transport=StartingTransport(launcher)),
            "http_async_client": httpx.AsyncClient(transport=AsyncStartingTransport(launcher)),
        }
    else:
        server = start_embedded_server(settings)
        base_url, model, api_key = server.base_url, server.alias, "not-needed"
    return ChatOpenAI(
        base_url=base_url,
        model=model,
        api_key=api_key,  # type: ignore[arg-type]
        temperature=settings.temperature,
        max_completion_tokens=settings.max_tokens,
        seed=settings.seed,
        timeout=settings.timeout_s,
        max_retries=1,
        **clients,
    )


def start_embedded_server(settings: ModelSettings) -> EmbeddedServer:
    """The embedded llama.cpp server for ``settings`` (its catalogue model or GGUF file).

    A GGUF file is served under its file name (lower-cased, without ``.gguf``), so records
    name the model actually served.
    """
    require_extra(
        "xllamacpp",
        "local",
        "the embedded model (or set REFLEXION_GRAPH_BASE_URL to use your own endpoint)",
    )
    if settings.gguf_path:
        path, context_size = settings.gguf_path, 4096
    else:
        entry = catalogue_model(settings.embedded_model)
        path, context_size = model_path(entry), entry.context_size
    return ensure_server(
        path, alias=_embedded_alias(settings), parallel=settings.parallel, context_size=context_size
    )


def _embedded_alias(settings: ModelSettings) -> str:
    """The name the embedded server answers to, known before it starts."""
    if settings.gguf_path:
        return settings.gguf_path.stem.lower()
    return catalogue_model(settings.embedded_model).alias


def model_id(model: object) -> str:
    """A model's name for records: ``model_name`` / ``model``, else its class name."""
    for attribute in ("model_name", "model"):
        value = getattr(model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


def check_endpoint(
    base_url: str,
    *,
    api_key: str | None = None,
    model: str | None = None,
    timeout_s: float = 30.0,
) -> None:
    """Raise :class:`ModelUnavailableError` unless the endpoint answers like an OpenAI API.

    ``{base_url}/models`` must answer; with ``model``, a one-token chat request must come back
    as a chat completion (an endpoint that answers garbage is named before any run starts).
    """
    try:
        _request_json(base_url, "/models", api_key=api_key, timeout_s=timeout_s)
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):
            raise ModelUnavailableError(
                f"the model endpoint {base_url!r} refused the API key (HTTP {error.code})"
            ) from error
    except (OSError, ValueError) as error:
        raise ModelUnavailableError(
            f"cannot reach the model endpoint {base_url!r}: {error}"
        ) from error
    if model is None:
        return
    probe = {"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}
    try:
        reply = _request_json(
            base_url, "/chat/completions", api_key=api_key, timeout_s=timeout_s, body=probe
        )
        message = reply["choices"][0]["message"]
        if not isinstance(message, dict):
            raise TypeError(f"'message' is {type(message).__name__}")
    except urllib.error.HTTPError as error:
        raise ModelUnavailableError(
            f"the model endpoint {base_url!r} refused a chat request for {model!r} "
            f"(HTTP {error.code})"
        ) from error
    except (OSError, ValueError, TypeError, KeyError, IndexError) as error:
        raise ModelUnavailableError(
            f"the model endpoint {base_url!r} answered a chat request with something that is "
            f"not a chat completion ({type(error).__name__}: {error})"
        ) from error


def _request_json(
    base_url: str,
    path: str,
    *,
    api_key: str | None,
    timeout_s: float,
    body: dict[str, Any] | None = None,
) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base_url.rstrip("/") + path, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return json.load(response)


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None
