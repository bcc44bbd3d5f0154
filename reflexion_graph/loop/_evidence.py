"""Evidence lessons: the checks a run failed, kept as its evaluator recorded them.

No model writes them: a template turns each failed check into a line ("`line_total(3.5, 2)`
had to return `700`, not `7.0`"), so what a later task is shown is what the check showed, not
a guess at the rule. Checks the model wrote itself (``self-tests``) are not evidence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict

from reflexion_graph import prompts
from reflexion_graph._check_text import check_line
from reflexion_graph._records import (
    CONVENTIONS_KEY,
    Attempt,
    FailedCheck,
    Lesson,
    is_self_judged,
    make_lesson,
)
from reflexion_graph.findings import Change, Finding

CHANGES_KEY = "changes"
"""The evidence lesson's metadata key for its verified changes, as JSON: what a later task
checks again on its own failed answer."""

MAX_CHECKS_PER_LESSON = 3
"""How many of a run's failed checks one evidence lesson keeps (the most often failed first)."""


def verified_findings(attempts: Iterable[Attempt]) -> list[Finding]:
    """The run's verified findings that memory may keep.

    Not those of self-judged verdicts, and not a shift by one (``Change.kept``).
    """
    found = (
        Finding.from_record(record)
        for attempt in attempts
        if not is_self_judged(attempt["evaluation"]["source"])
        for record in attempt["evaluation"].get("changes") or []
    )
    return [finding for finding in found if finding.change.kept]


def trusted_checks(attempts: Iterable[Attempt]) -> list[FailedCheck]:
    """The failed checks of the run's attempts, leaving out verdicts the model wrote itself."""
    return [
        check
        for attempt in attempts
        if not is_self_judged(attempt["evaluation"]["source"])
        for check in attempt["evaluation"].get("checks") or []
    ]


def distinct_checks(checks: Sequence[FailedCheck]) -> list[FailedCheck]:
    """Each check once (same call and expected value), the most often failed first.

    Ties keep the order in which the run first failed them; a check keeps its first actual.
    """
    counts: dict[tuple[str, str, str], int] = {}
    first: dict[tuple[str, str, str], FailedCheck] = {}
    for check in checks:
        key = (check["kind"], check["check"], check["expected"])
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, check)
    order = sorted(first, key=lambda key: -counts[key])
    return [first[key] for key in order]


def evidence_lesson(task: str, attempts: Sequence[Attempt]) -> Lesson | None:
    """The run's evidence lesson, or ``None`` when no trusted check failed.

    Its ``evidence`` is the check lines, one a line: identical checks of two runs merge in
    memory (their counts add up). Its metadata keeps, one a line, the changes that made a
    failed answer of the run pass every check (``conventions``: "Return `round(result * 100)`
    ..."), which a later task is told as rules; a relation seen in one pair of values is never
    one. Its id derives from the run, so a remember step replayed after a crash stores it
    once. Nothing has recalled it yet.
    """
    checks = distinct_checks(trusted_checks(attempts))[:MAX_CHECKS_PER_LESSON]
    if not checks:
        return None
    lines = [check_line(check) for check in checks]
    found = {finding.convention: finding.change for finding in verified_findings(attempts)}
    evidence = "\n".join(lines)
    run = "\0".join([task, evidence, *(attempt["answer"] for attempt in attempts)])
    return {
        **make_lesson(
            prompts.EVIDENCE_LESSON.format(checks="; ".join(lines)),
            task=task,
            evidence=evidence,
            source="evidence",
            metadata={
                CONVENTIONS_KEY: "\n".join(found),
                CHANGES_KEY: json.dumps([asdict(change) for change in found.values()]),
            }
            if found
            else None,
        ),
        "id": hashlib.sha256(run.encode()).hexdigest()[:32],
    }


def changes_of(lesson: Lesson) -> list[Change]:
    """The verified changes an evidence lesson keeps (none for other lessons, or older ones)."""
    try:
        records = json.loads(str(lesson["metadata"].get(CHANGES_KEY) or "[]"))
        return [Change(**record) for record in records]
    except (ValueError, TypeError):
        return []
