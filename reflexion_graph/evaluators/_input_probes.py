"""Probes of a failed check: the same call with its arguments changed in one plain way.

A 1.5B model shown ``assert has_tag(['Python'], 'python') is True (expected True, got False)``
seldom reads the convention off it. Calling the failed answer once more, with the check's text
arguments lowercased (or a date's first two fields swapped), and finding that it then returns
the expected value, states the convention as a fact about the answer, a finding, with the
statement that makes the change: "The checks ignore letter case: start the function with
`tag = tag.lower()` and keep the rest as it is." The probes run through the same verdict
channel as the tests (the answer's code in the sandbox, the comparison in the trusted process),
and only add findings and feedback: the verdict is the tests'.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from reflexion_graph._value_relation import each_text

FIELD_SEPARATORS = ("/", "-", ".")
"""The separators whose fields a probe swaps (the first present in a text is used)."""


@dataclass(frozen=True)
class Probe:
    """A check's call with changed arguments, as an assert, and the finding should it pass."""

    test: str
    """The assert: the changed call compared to the check's own expected value."""
    call: str
    """The changed call, as shown in the note."""
    finding: str
    """What the checks expect and what to do, should the probe pass ("The checks ignore
    letter case: start the function with `tag = tag.lower()` and keep the rest as it is.")."""
    expected: str
    """The check's expected value, as its text writes it."""
    changed: int
    """How many arguments the change touched: the fewest says the most."""


def probes_of(test: str, parameters: Sequence[str] = ()) -> list[Probe]:
    """The probes of one test: ``assert f(<literals>) == <literal>`` (or ``is``), else none.

    Each change is tried on each argument alone, then on all at once; ``parameters`` (the
    answer's own names for them) name the argument in the note.
    """
    parsed = _parse_check(test)
    if parsed is None:
        return []
    call, compare = parsed
    args = [ast.literal_eval(arg) for arg in call.args]
    kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
    names = _argument_names(call, parameters)
    values = [*args, *kwargs.values()]
    expected = ast.unparse(compare.comparators[0])
    probes: dict[str, Probe] = {}
    for change in _CHANGES:
        for chosen in [*([i] for i in range(len(values))), list(range(len(values)))]:
            changed = [change.transform(v) if i in chosen else v for i, v in enumerate(values)]
            if changed == values or (len(chosen) > 1 and len(values) == 1):
                continue
            changed_call = _call_text(
                call.func,
                changed[: len(args)],
                dict(zip(kwargs, changed[len(args) :], strict=True)),
            )
            node = ast.parse(changed_call, mode="eval").body
            changed_test = ast.unparse(
                ast.Assert(ast.Compare(node, compare.ops, compare.comparators))
            )
            touched = [i for i in chosen if changed[i] != values[i]]
            words = _finding(change, chosen, touched, names, values)
            probes.setdefault(
                changed_test, Probe(changed_test, changed_call, words, expected, len(chosen))
            )
    return list(probes.values())


def _finding(
    change: _Change, chosen: list[int], touched: list[int], names: list[str], values: list[Any]
) -> str:
    """What the change says, with the statement that makes it where each ``touched`` one is named.

    ``chosen``: the arguments the change was applied to; ``touched``: those it altered. The probe
    showed the answer returns the expected value once the change is made, so the statement, put
    first in the function, is a fix the 1.5B model can copy as it stands.
    """
    lines = [change.first_line(names[i], values[i]) if names[i] else "" for i in touched]
    separator = next((_separator(values[i]) for i in chosen if _separator(values[i])), "")
    what = _argument_words(chosen, names, len(values))
    fact = change.fact.format(what=what, sep=f"`{separator}`")
    if all(lines):
        return f"{fact}: start the function with `{'; '.join(lines)}` and keep the rest as it is."
    advice = change.advice.format(
        what=what,
        inside=" (every text in it)" if any(not isinstance(values[i], str) for i in chosen) else "",
        it="them" if what.endswith("arguments") else "it",
    )
    return f"{fact}: {advice}"


def empty_input_finding(test: str, parameters: Sequence[str] = ()) -> str:
    """What a check that raised on an empty argument expects instead, or ``""``.

    ``assert median([]) == 0.0`` failing with an error: "An empty `xs` is valid input: return
    `0.0` for it first, do not raise." Small models, shown the error, tend to raise a clearer
    one; the check's own expected value is the fix. Only the first empty argument is named.
    """
    parsed = _parse_check(test)
    if parsed is None:
        return ""
    call, compare = parsed
    values = [ast.literal_eval(arg) for arg in [*call.args, *(k.value for k in call.keywords)]]
    empty = next((i for i, v in enumerate(values) if _is_empty(v)), None)
    if empty is None:
        return ""
    name = _argument_names(call, parameters)[empty]
    what = f"`{name}`" if name else f"{_ordinal(empty)} argument"
    expected = ast.unparse(compare.comparators[0])
    return f"An empty {what} is valid input: return `{expected}` for it first, do not raise."


def _is_empty(value: Any) -> bool:
    return isinstance(value, str | list | tuple | dict | set | frozenset) and not value


def _argument_words(chosen: list[int], names: Sequence[str], count: int) -> str:
    """```tags```, ``its second argument`` or ``its text arguments``: the changed ones."""
    if len(chosen) == 1 and names[chosen[0]]:
        return f"`{names[chosen[0]]}`"
    if count == 1:
        return "its text argument"
    if len(chosen) > 1:
        return "its text arguments"
    return f"its {_ordinal(chosen[0])} argument"


def _ordinal(index: int) -> str:
    """``second`` for index 1."""
    return _ORDINALS[index] if index < len(_ORDINALS) else f"number {index + 1}"


def _argument_names(call: ast.Call, parameters: Sequence[str]) -> list[str]:
    """Each argument's name (the answer's parameter, or the keyword), ``""`` where unknown."""
    positional = [*parameters[: len(call.args)], *[""] * (len(call.args) - len(parameters))]
    return [*positional, *(kw.arg or "" for kw in call.keywords)]


_ORDINALS = ("first", "second", "third", "fourth", "fifth")


def probe_note(probe: Probe) -> str:
    """The feedback line of a probe that passed."""
    return (
        f"Probe: {probe.finding} (called as `{probe.call}`, the answer would return the "
        f"expected `{probe.expected}`)"
    )


def _parse_check(test: str) -> tuple[ast.Call, ast.Compare] | None:
    """The call and comparison of ``assert name(<literals>) ==/is <literal>``."""
    try:
        node = ast.parse(test).body[0]
    except (SyntaxError, ValueError, IndexError):
        return None
    if not isinstance(node, ast.Assert) or not isinstance(node.test, ast.Compare):
        return None
    compare = node.test
    if len(compare.ops) != 1 or not isinstance(compare.ops[0], ast.Eq | ast.Is):
        return None
    call = compare.left
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        return None
    if not all(_is_literal(n) for n in [*call.args, *(k.value for k in call.keywords)]):
        return None
    if not _is_literal(compare.comparators[0]) or any(k.arg is None for k in call.keywords):
        return None
    return call, compare


def _is_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Starred):
        return False
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _call_text(func: ast.expr, args: list[Any], kwargs: dict[str, Any]) -> str:
    parts = [repr(value) for value in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{ast.unparse(func)}({', '.join(parts)})"


def _lowercased(value: Any) -> Any:
    return each_text(value, str.lower)


def _lowercase_line(name: str, value: Any) -> str:
    """The statement that lowercases argument ``name`` (a text, or a list of texts), or ``""``."""
    if isinstance(value, str):
        return f"{name} = {name}.lower()"
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return f"{name} = [item.lower() for item in {name}]"
    return ""


def _fields_swapped(value: Any) -> Any:
    """A text's first two fields swapped (``'03/04/2026'`` -> ``'04/03/2026'``); else as is."""
    separator = _separator(value)
    if not separator:
        return value
    fields = value.split(separator)
    return separator.join([fields[1], fields[0], *fields[2:]])


def _swap_line(name: str, value: Any) -> str:
    """The statement that swaps the first two fields of argument ``name``, or ``""``."""
    separator = _separator(value)
    if not separator:
        return ""
    return (
        f"first, second, rest = {name}.split({separator!r}, 2); "
        f"{name} = {separator!r}.join([second, first, rest])"
    )


def _separator(value: Any) -> str:
    """The first of :data:`FIELD_SEPARATORS` that splits a text into 3 or more fields, or ``""``."""
    if not isinstance(value, str):
        return ""
    for separator in FIELD_SEPARATORS:
        fields = value.split(separator)
        if len(fields) >= 3 and all(f.strip() for f in fields):
            return separator
    return ""


@dataclass(frozen=True)
class _Change:
    """One plain change a probe makes to a check's arguments, and how a finding tells it."""

    fact: str
    """What a passing probe shows (``{what}``: the arguments changed, ``{sep}``: the
    separator of the fields)."""
    advice: str
    """What to do, where the changed arguments are not all named (``{what}``, ``{it}``: it or
    them, ``{inside}``: a note that the texts inside a list changed too)."""
    transform: Callable[[Any], Any]
    """The change, on one argument's value."""
    first_line: Callable[[str, Any], str]
    """The statement that makes the change to a named argument, or ``""``."""


_CHANGES = (
    _Change(
        "The checks ignore letter case",
        "lowercase {what}{inside} before using {it}.",
        _lowercased,
        _lowercase_line,
    ),
    _Change(
        "The checks take the first two {sep}-separated fields of {what} in the other order",
        "swap the roles the answer gives those two fields.",
        _fields_swapped,
        _swap_line,
    ),
)


def parameters_of(code: str, test: str) -> list[str]:
    """The positional parameter names of the function ``test`` calls, as ``code`` defines it."""
    parsed = _parse_check(test)
    try:
        body = ast.parse(code).body
    except (SyntaxError, ValueError):
        return []
    if parsed is None or not isinstance(parsed[0].func, ast.Name):
        return []
    name = parsed[0].func.id
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return [a.arg for a in [*node.args.posonlyargs, *node.args.args]]
    return []
