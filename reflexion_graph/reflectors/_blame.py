"""Which step of a tool-using attempt a lesson blames (per-node blame)."""

from __future__ import annotations

import re

from reflexion_graph.actors._tools import tools_called, tools_failed

ANSWER_STEP = "answer"
"""The step named when every tool call was right and the final reply was wrong."""
_STEP = re.compile(r"\bStep:[\s`'\"*]*([\w.-]+)", re.IGNORECASE)


def blamed_step(lesson: str, attempt: str) -> str:
    """The tool the lesson's ``Step:`` line names, if the attempt called it; else ``""``.

    A name the attempt never called (a small model's guess) falls back to the first tool whose
    call failed; ``answer`` (the final reply) and a lesson without a step blame no tool.
    """
    called = tools_called(attempt)
    found = _STEP.search(lesson)
    named = found.group(1) if found else ""
    if named in called:
        return named
    if named.lower() == ANSWER_STEP:
        return ""
    failed = tools_failed(attempt)
    return failed[0] if failed else ""
