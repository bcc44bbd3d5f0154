"""Model options shared by ``run`` and ``bench``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from langchain_openai import ChatOpenAI

from reflexion_graph.models import CATALOGUE, DEFAULT_MODEL, ModelSettings, create_chat_model
from reflexion_graph.models._settings import check_endpoint


def add_model_arguments(parser: Any) -> None:
    """The model's flags, in their own group."""
    model = parser.add_argument_group(f"model (default: embedded {DEFAULT_MODEL} on llama.cpp)")
    model.add_argument("--base-url", help="OpenAI-compatible endpoint [REFLEXION_GRAPH_BASE_URL]")
    model.add_argument("--model", help="model name at the endpoint [REFLEXION_GRAPH_MODEL]")
    model.add_argument("--api-key", help="API key [REFLEXION_GRAPH_API_KEY, OPENAI_API_KEY]")
    model.add_argument(
        "--embedded-model",
        choices=sorted(CATALOGUE),
        help=f"catalogue model to serve (default {DEFAULT_MODEL}) [REFLEXION_GRAPH_EMBEDDED_MODEL]",
    )
    model.add_argument(
        "--gguf", type=Path, help="serve this GGUF file instead [REFLEXION_GRAPH_GGUF]"
    )
    model.add_argument("--temperature", type=float, help="sampling temperature (default 0.7)")
    model.add_argument("--max-tokens", type=int, help="longest reply, in tokens (default 512)")
    model.add_argument(
        "--parallel",
        type=int,
        help="parallel slots of the embedded server (continuous batching) "
        "[REFLEXION_GRAPH_PARALLEL]",
    )


def model_settings(args: argparse.Namespace, **overrides: Any) -> ModelSettings:
    """Settings from the flags, over the environment."""
    return ModelSettings.from_env(
        base_url=args.base_url,
        model=args.model,
        api_key=args.api_key,
        embedded_model=args.embedded_model,
        gguf_path=args.gguf,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        parallel=args.parallel,
        **overrides,
    )


def start_model(settings: ModelSettings) -> ChatOpenAI:
    """Check a configured endpoint answers, or start the embedded server; then the client."""
    if settings.base_url:
        check_endpoint(settings.base_url, api_key=settings.api_key, model=settings.model)
    return create_chat_model(settings)
