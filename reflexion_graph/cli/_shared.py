"""What ``run`` and ``bench`` share: a sub-command with examples, and the model's options."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from langchain_openai import ChatOpenAI

from reflexion_graph.models import CATALOGUE, DEFAULT_MODEL, ModelSettings, create_chat_model
from reflexion_graph.models._settings import check_endpoint


def add_command(commands: Any, name: str, *, help: str, description: str, epilog: str) -> Any:
    """A sub-command's parser whose help ends with its examples, as written."""
    return commands.add_parser(
        name,
        help=help,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


MODEL_FLAGS = (
    "base_url",
    "model",
    "api_key",
    "embedded_model",
    "gguf_path",
    "temperature",
    "max_tokens",
    "parallel",
)
"""The model's flags, each stored under the name of the ``ModelSettings`` field it sets."""


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
        "--gguf",
        type=Path,
        dest="gguf_path",
        help="serve this GGUF file instead [REFLEXION_GRAPH_GGUF]",
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
    flags = {name: getattr(args, name) for name in MODEL_FLAGS}
    return ModelSettings.from_env(**flags, **overrides)


def start_model(settings: ModelSettings) -> ChatOpenAI:
    """Check a configured endpoint answers, or start the embedded server; then the client."""
    if settings.base_url:
        check_endpoint(settings.base_url, api_key=settings.api_key, model=settings.model)
    return create_chat_model(settings)
