"""The one way child scripts are shipped: a standard-library-only source, read as text.

A child process must not import this project (the sandbox hides it, and the tests' side runs
isolated with ``-I``), so its script arrives as source. A script may name modules to inline:
each ``from <module> import (...)`` block of those is replaced by that module's own source.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path


@functools.cache
def child_script(module: str, *, inline: tuple[str, ...] = ()) -> str:
    """The source of ``module`` (dotted name), with each module of ``inline`` pasted in place.

    A pasted module must be standard-library-only too; its import block in the script is
    ``from <name> import (`` ... ``)`` on lines of their own.
    """
    source = _source_of(module)
    for name in inline:
        start = source.index(f"from {name} import (")
        end = source.index(")\n", start) + 2
        source = source[:start] + _source_of(name) + "\n" + source[end:]
    return source


def _source_of(module: str) -> str:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"no source for the child script {module!r}")
    return Path(spec.origin).read_text()
