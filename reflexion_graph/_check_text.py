"""A failed check in words, from a template: what evidence lessons and hindsight rules show."""

from __future__ import annotations

from reflexion_graph import prompts
from reflexion_graph._records import FailedCheck


def check_line(check: FailedCheck) -> str:
    """One failed check in words, from the template (no model call)."""
    if check["kind"] == "argument" and not check["expected"]:
        line = prompts.EVIDENCE_LEFT_OUT.format(check=check["check"])
    else:
        line = prompts.EVIDENCE_CHECKS[check["kind"]].format(
            check=check["check"], expected=check["expected"]
        )
    if check["actual"]:
        return line + prompts.EVIDENCE_ACTUAL.format(actual=check["actual"])
    if check["error"]:
        return line + prompts.EVIDENCE_ERROR.format(error=check["error"])
    return line
