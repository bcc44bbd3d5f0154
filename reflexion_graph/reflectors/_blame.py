"""Which step of a tool-using attempt a lesson blames (per-step blame)."""

from __future__ import annotations

import re

from reflexion_graph.actors._tools import tools_called, tools_left_failing

ANSWER_STEP = "answer"
"""The step named when every tool call was right and the final reply was wrong."""
_STEP = re.compile(r"\bStep:[\s`'\"*]*([\w.-]+)", re.IGNORECASE)


def blamed_step(lesson: str, attempt: str) -> str:
    """The tool to blame for a failed attempt, or ``""`` for none (the final reply).

    A tool the attempt left failing (its last call answered with an error) is hard evidence and
    comes first; else the tool the lesson's ``Step:`` line names, if the attempt called it.
    (Measured on the default 1.5B model, its ``Step:`` line names the first tool called about
    as often as the right one: ``benchmarks/blame_bench.py``.)
    """
    failing = tools_left_failing(attempt)
    if failing:
        return failing[0]
    found = _STEP.search(lesson)
    named = found.group(1) if found else ""
    return named if named in tools_called(attempt) else ""
