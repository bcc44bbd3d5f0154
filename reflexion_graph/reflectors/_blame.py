"""Which step of a tool-using attempt a lesson blames (per-step blame)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from reflexion_graph._records import ToolStep
from reflexion_graph.actors._tools import tools_called, tools_left_failing

_STEP = re.compile(r"\bStep:[\s`'\"*]*([\w.-]+)", re.IGNORECASE)


def blamed_step(lesson: str, steps: Sequence[ToolStep]) -> str:
    """The tool to blame for a failed attempt, or ``""`` for none (the final reply).

    A tool the attempt left failing (its last call answered with an error) is hard evidence and
    comes first; else the tool the lesson's ``Step:`` line names (a small model's ``Step:``
    line leans to the first tool called: ``benchmarks/blame_bench.py``).
    """
    failing = tools_left_failing(steps)
    return failing[0] if failing else step_named(lesson, steps)


def step_named(lesson: str, steps: Sequence[ToolStep]) -> str:
    """The tool the lesson's ``Step:`` line names, if the attempt called it; else ``""``."""
    found = _STEP.search(lesson)
    named = found.group(1) if found else ""
    return named if named in tools_called(steps) else ""
