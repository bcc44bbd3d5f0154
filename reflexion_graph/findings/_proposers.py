"""Proposers: each suggests changes to the failed answer; any of them may be wrong.

A proposer reads the task's failed checks and the answer's code and yields candidate
:class:`Change` s, simplest first. It never decides: the verifier runs every candidate against
all the task's checks. The table :data:`PROPOSERS` is the order they are asked in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from reflexion_graph.findings._checks import CheckCall, argument_names, parameters_of
from reflexion_graph.findings._finding import Change
from reflexion_graph.findings._search import output_changes

MAX_ARGUMENTS = 4
"""Input changes are tried on the first few arguments only."""


@dataclass(frozen=True)
class FailedCall:
    """A failed check that called the function with values, and what the answer did."""

    call: CheckCall
    actual: Any
    """What the answer returned (:data:`~reflexion_graph.findings._checks.MISSING` when it
    raised or its value is not a plain literal)."""
    raised: bool


@dataclass(frozen=True)
class Evidence:
    """What every proposer reads: the failed calls, the function and the answer's code."""

    function: str
    failed: Sequence[FailedCall]
    code: str

    @functools.cached_property
    def parameters(self) -> list[str]:
        """The answer's positional parameter names for the function."""
        return parameters_of(self.code, self.function)


Proposer = Callable[[Evidence], Iterator[Change]]


def search_outputs(evidence: Evidence) -> Iterator[Change]:
    """Output changes from the search over building blocks, fitted to every failed call."""
    pairs = [(f.actual, f.call.expected) for f in evidence.failed if not f.raised]
    if len(pairs) != len(evidence.failed):
        return  # a failed call without a value: no output change fixes it
    for fitted in output_changes(pairs):
        yield Change(
            "output", evidence.function, fitted.expression, fitted.cost, fitted.constants,
            kept=fitted.kept,
        )  # fmt: skip


def input_changes(evidence: Evidence) -> Iterator[Change]:
    """Arguments changed in one plain way before the function runs (probes).

    Each change is a statement put first in the function; only named arguments are changed
    (the statement must name them). A change is tried on each argument alone, then, where it
    applies to several and takes no constant, on all of them at once (``tags`` and ``tag``
    both lowercased): one statement per argument, so the fewest changed is the simplest.
    """
    calls = [f.call for f in evidence.failed]
    if not calls:
        return
    names = argument_names(calls[0], evidence.parameters)
    arguments = [
        (name, [call.args[index] for call in calls if index < len(call.args)])
        for index, name in enumerate(names[:MAX_ARGUMENTS])
        if name
    ]
    for change, constants in _ARGUMENT_CHANGES:
        statements = [s for s in (change(name, values) for name, values in arguments) if s]
        shift = constants > 0  # a shift by one: told within a task, never kept
        for statement in statements:
            yield Change(
                "input", evidence.function, statement, 1 + constants, constants, kept=not shift
            )
        if len(statements) > 1 and not constants:
            yield Change("input", evidence.function, "; ".join(statements), len(statements))


def _lowercase(name: str, values: list[Any]) -> str:
    if values and all(isinstance(v, str) for v in values) and any(v != v.lower() for v in values):
        return f"{name} = {name}.lower()"
    texts = [v for v in values if isinstance(v, list | tuple)]
    if (
        texts
        and all(isinstance(i, str) for v in texts for i in v)
        and any(i != i.lower() for v in texts for i in v)
    ):
        return f"{name} = [item.lower() for item in {name}]"
    return ""


def _strip(name: str, values: list[Any]) -> str:
    if values and all(isinstance(v, str) for v in values) and any(v != v.strip() for v in values):
        return f"{name} = {name}.strip()"
    return ""


def _fields_swapped(name: str, values: list[Any]) -> str:
    for separator in ("/", "-", ".", ":", ","):
        if values and all(isinstance(v, str) and len(v.split(separator)) >= 2 for v in values):
            return (
                f"first, second, *rest = {name}.split({separator!r}); "
                f"{name} = {separator!r}.join([second, first, *rest])"
            )
    return ""


def _shifted(step: int) -> Callable[[str, list[Any]], str]:
    def statement(name: str, values: list[Any]) -> str:
        whole = values and all(isinstance(v, int) and not isinstance(v, bool) for v in values)
        return f"{name} = {name} {'+' if step > 0 else '-'} 1" if whole else ""

    return statement


_ARGUMENT_CHANGES: tuple[tuple[Callable[[str, list[Any]], str], int], ...] = (
    (_lowercase, 0),
    (_strip, 0),
    (_fields_swapped, 0),
    (_shifted(-1), 1),
    (_shifted(1), 1),
)
"""Each change of one argument, with how many constants it takes (a shift of one takes one)."""


def empty_guards(evidence: Evidence) -> Iterator[Change]:
    """Where the answer failed a call with an empty argument: return the check's value."""
    names = evidence.parameters
    for failed in evidence.failed:
        call_names = argument_names(failed.call, names)
        for index, value in enumerate(failed.call.args):
            name = call_names[index] if index < len(call_names) else ""
            if name and _is_empty(value):
                code = f"if not {name}: return {failed.call.expected!r}"
                yield Change("guard", evidence.function, code, cost=1)
                break


def _is_empty(value: Any) -> bool:
    return isinstance(value, str | list | tuple | dict | set | frozenset) and not value


PROPOSERS: dict[str, Proposer] = {
    "guards": empty_guards,
    "search": search_outputs,
    "probes": input_changes,
}
"""Every proposer, in the order asked; a finding records which one suggested it."""
