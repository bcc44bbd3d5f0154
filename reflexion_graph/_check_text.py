"""A failed check in words, from a template: what evidence lessons and hindsight rules show.

Where the expected value follows from the attempt's in one plain way, the line says how
(``(the attempt's value times 100, as an int)``): still what the check showed, with no model call.
"""

from __future__ import annotations

from reflexion_graph import prompts
from reflexion_graph._records import FailedCheck
from reflexion_graph._value_relation import as_instruction, value_relation

RELATED_KINDS = {"value": ("Return", "result"), "argument": ("Pass", "value")}
"""The checks whose expected value may follow from the attempt's, with how a relation of each
is told as what to do (an answer check's expected value is the task's own target, so a
relation to it would mislead a sibling task)."""


def check_line(check: FailedCheck) -> str:
    """One failed check in words, from the template (no model call)."""
    if check["kind"] == "argument" and not check["expected"]:
        line = prompts.EVIDENCE_LEFT_OUT.format(check=check["check"])
    else:
        line = prompts.EVIDENCE_CHECKS[check["kind"]].format(
            check=check["check"], expected=check["expected"]
        )
    if check["actual"]:
        return line + prompts.EVIDENCE_ACTUAL.format(actual=check["actual"]) + _relation(check)
    if check["error"]:
        return line + prompts.EVIDENCE_ERROR.format(error=check["error"])
    return line


def _check_relation(check: FailedCheck) -> str:
    """How the check's expected value follows from the attempt's, in words; ``""`` if not."""
    if check["kind"] not in RELATED_KINDS or not check["expected"] or not check["actual"]:
        return ""
    return value_relation(check["expected"], check["actual"])


def check_convention(check: FailedCheck) -> str:
    """The check's relation told as what to do ("Return the result times 100, as an int")."""
    relation = _check_relation(check)
    return as_instruction(relation, *RELATED_KINDS[check["kind"]]) if relation else ""


def _relation(check: FailedCheck) -> str:
    relation = _check_relation(check)
    return prompts.EVIDENCE_RELATION.format(relation=relation) if relation else ""
