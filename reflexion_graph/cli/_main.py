"""The command line proper: sub-commands, and one clear line per error."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import openai
from rich.console import Console
from rich.markup import escape

from reflexion_graph.cli import _bench, _memory, _models, _run
from reflexion_graph.errors import ReflexionGraphError

_EXIT_ERROR = 2
_EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="reflexion-graph",
        description="Solve tasks with Reflexion: attempt, evaluate, reflect on failure, retry.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log library activity")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _run.add_parser(commands)
    _memory.add_parser(commands)
    _bench.add_parsers(commands)
    _models.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (errors print one line, no traceback)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    # Piped output (logs, CI) gets a wide console instead of rich's 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=120)
    errors = Console(stderr=True)
    try:
        code: int = args.handler(args, console)
        return code
    except ReflexionGraphError as error:
        errors.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
    except openai.APIConnectionError as error:
        errors.print(f"[bold red]error:[/] cannot reach the model endpoint: {escape(str(error))}")
    except openai.APIStatusError as error:
        errors.print(
            f"[bold red]error:[/] the model endpoint answered {error.status_code}: "
            f"{escape(error.message)}"
        )
    except KeyboardInterrupt:
        errors.print("interrupted")
        return _EXIT_INTERRUPTED
    return _EXIT_ERROR
