"""``reflexion-graph models``: the embedded model catalogue."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from reflexion_graph.models import CATALOGUE, DEFAULT_MODEL, catalogue_model, model_path


def add_parser(commands: Any) -> None:
    """Register ``models list`` and ``models prepare``."""
    parser = commands.add_parser("models", help="the embedded model catalogue")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="the catalogue, and which models are installed").set_defaults(
        handler=list_models
    )
    prepare = actions.add_parser(
        "prepare", help="assemble and verify a model's file (the set-up runs this)"
    )
    prepare.add_argument("name", nargs="?", default=DEFAULT_MODEL, choices=sorted(CATALOGUE))
    prepare.set_defaults(handler=prepare_model)


def list_models(args: argparse.Namespace, console: Console) -> int:
    """One line per catalogue model: name, alias, context, and how to install it."""
    for model in CATALOGUE.values():
        default = " (default)" if model.name == DEFAULT_MODEL else ""
        console.print(
            f"{model.name}{default}: {model.description}; serves as {model.alias!r}, "
            f"{model.context_size} tokens of context per slot; install: {model.install_hint()}",
            highlight=False,
        )
    return 0


def prepare_model(args: argparse.Namespace, console: Console) -> int:
    """Assemble (once) and verify the model's GGUF; print where it is."""
    path = model_path(catalogue_model(args.name))
    console.print(f"{args.name}: {path}", highlight=False)
    return 0
