"""The ``reflexion-graph`` command line (needs the ``cli`` extra: ``rich`` for its display)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from reflexion_graph._extras import require_extra
from reflexion_graph.errors import ConfigurationError

_EXIT_ERROR = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (errors print one line, no traceback)."""
    try:
        require_extra("rich", "cli", "the reflexion-graph command")
    except ConfigurationError as error:
        sys.stderr.write(f"error: {error}\n")
        return _EXIT_ERROR
    from reflexion_graph.cli._main import main as run

    return run(argv)


__all__ = ["main"]
