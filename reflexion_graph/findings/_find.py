"""From failed checks to findings: ask the proposers, verify in order, tell the simplest."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from reflexion_graph import prompts
from reflexion_graph.findings._checks import MISSING, check_call, literal
from reflexion_graph.findings._finding import Change, Finding
from reflexion_graph.findings._proposers import PROPOSERS, Evidence, FailedCall, Proposer
from reflexion_graph.findings._verify import changed_code

logger = logging.getLogger(__name__)

MAX_VERIFIED = 12
"""At most this many candidates run against the checks per failed answer."""
MIN_PAIRS = 2
"""A change fitted to values (two operations, or one taking a constant from them) needs this
many failed checks with different values: what one pair fits is as often a coincidence
(``len(format(result, '.2f'))`` turns 3 into 4, ``result + 1`` is any count one short), and
passing checks cannot confirm an output change, only refute it."""

PassesAll = Callable[[str], bool]
"""Whether code passes every check of the task (run as the tests run: the verdict channel)."""


@runtime_checkable
class ChangeVerifier(Protocol):
    """An evaluator that can check a change again on another answer (the code evaluator)."""

    def verified(self, answer: str, change: Change, *, source: str) -> Finding | None:
        """``change`` applied to ``answer``'s function, told if it passes every check."""
        ...


@dataclass(frozen=True)
class FailedTest:
    """One test the answer failed: its text, and the value it returned or the error it raised."""

    test: str
    actual: str
    """The returned value's repr (``""`` when it raised or returned nothing to show)."""
    raised: bool


def find(
    code: str,
    failed: Sequence[FailedTest],
    passes_all: PassesAll,
    *,
    checks: int,
    function: str | None = None,
    proposers: Mapping[str, Proposer] = PROPOSERS,
) -> Finding | None:
    """The simplest verified finding for the failed answer ``code``, or ``None``.

    ``failed``: the tests it failed; ``checks``: how many the task has. A candidate is told
    only when the answer, so changed, passes all of them (``passes_all``). Proposers marked
    ``costly`` (a model call) are asked only where the others told nothing.
    """
    calls = [(test, check_call(test.test)) for test in failed]
    if not calls or any(call is None for _, call in calls):
        return None  # a failed check that is not a call with values: no change is sure to fix it
    functions = {call.function for _, call in calls if call}
    name = function or next(iter(functions))
    if functions != {name}:
        return None
    evidence = Evidence(
        name,
        [
            FailedCall(call, literal(t.actual) if t.actual else MISSING, t.raised or not t.actual)
            for t, call in calls
            if call
        ],
        code,
    )
    for round_ in _rounds(proposers):
        found = _verified(code, evidence, failed, round_, passes_all)
        if found is not None:
            source, change, alternatives = found
            return Finding(
                statement(change),
                change,
                source,
                checks=checks,
                fixed=len(failed),
                alternatives=alternatives,
            )
    return None


def _rounds(proposers: Mapping[str, Proposer]) -> list[dict[str, Proposer]]:
    """The cheap proposers first; the costly ones (a model call) only where they told nothing."""
    cheap = {name: p for name, p in proposers.items() if not getattr(p, "costly", False)}
    costly = {name: p for name, p in proposers.items() if name not in cheap}
    return [round_ for round_ in (cheap, costly) if round_]


def _verified(
    code: str,
    evidence: Evidence,
    failed: Sequence[FailedTest],
    proposers: Mapping[str, Proposer],
    passes_all: PassesAll,
) -> tuple[str, Change, int] | None:
    """The simplest change of ``proposers`` that passes every check, or ``None``.

    As ``(source, change, alternatives)``: how many others of its cost passed too.
    """
    candidates = sorted(
        (
            (source, change)
            for source, proposer in proposers.items()
            for change in _proposed(source, proposer, evidence)
            if _supported(change, failed)
        ),
        key=lambda candidate: candidate[1].cost,
    )
    told: tuple[str, Change] | None = None
    alternatives = 0
    for source, change in candidates[:MAX_VERIFIED]:
        if told and change.cost > told[1].cost:
            break
        try:
            changed = changed_code(code, change)
        except (SyntaxError, ValueError):
            continue
        if passes_all(changed):
            if told:
                alternatives += 1
            else:
                told = (source, change)
    return None if told is None else (*told, alternatives)


def _proposed(source: str, proposer: Proposer, evidence: Evidence) -> list[Change]:
    """What ``proposer`` suggests; nothing where it fails (a model that timed out).

    A proposer's error never fails the verdict: it is logged.
    """
    try:
        return list(proposer(evidence))
    except Exception as error:
        logger.warning("findings: proposer %r failed: %s", source, error)
        return []


def _supported(change: Change, failed: Sequence[FailedTest]) -> bool:
    """Whether enough failed checks back ``change`` (:data:`MIN_PAIRS` where it is fitted).

    One operation that takes no constant (``sorted(result)``, ``tag = tag.lower()``) needs
    one failed check; two operations, or a constant, need :data:`MIN_PAIRS`.
    """
    fitted = change.constants > 0 or change.cost > 1
    return not fitted or len({(t.test, t.actual) for t in failed}) >= MIN_PAIRS


def statement(change: Change) -> str:
    """What to do, in one line, with the change as code (``prompts.FINDING_STATEMENTS``)."""
    return prompts.FINDING_STATEMENTS[change.kind].format(
        function=change.function, code=change.code
    )
