"""How a check's expected value follows from the value an attempt gave, found without a model.

A 1.5B model rarely reads a convention off another function's values ("`success_rate(1, 4)`
had to return `25`, not `0.25`"), but follows one it is told. Where the two values are related
in one plain way (a scale, rounding, an offset of one, letter case, a prefix or suffix, order,
clamping, a wrapper, a type), :func:`value_relation` says so ("the attempt's value times 100,
rounded to an int"): a fact about the two values, never a guess. Values are read with
``ast.literal_eval``, so a repr that is not a plain literal has no relation.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from typing import Any

SCALES = (10, 100, 1000, 60, 3600)
"""The factors a scale relation may have (either way): decimal units and time units."""

_MISSING = object()


def value_relation(expected: str, actual: str, *, exact: bool = False) -> str:
    """How ``expected`` follows from ``actual`` (both reprs), or ``""`` when no plain way.

    ``exact=True`` leaves out an offset of one, the relation most often a coincidence (a count
    one short says nothing of why).
    """
    want, got = _literal(expected), _literal(actual)
    if want is _MISSING or got is _MISSING or want == got:
        return ""
    for relation in _RELATIONS:
        if exact and relation is _offset:
            continue
        phrase = relation(want, got)
        if phrase:
            return phrase
    return ""


_SUBJECTS = (("the attempt's value", "the {noun}"), ("the attempt's items", "the items"))


def as_instruction(relation: str, verb: str, noun: str) -> str:
    """A relation told as what to do: ``Return the result times 100, as an int``.

    ``verb`` and ``noun`` say what the value was: ``("Return", "result")`` for a function's
    result, ``("Pass", "value")`` for a call's argument. A type relation keeps its words
    (``Return an `int`, not a `str```).
    """
    for subject, told in _SUBJECTS:
        if relation.startswith(subject):
            return f"{verb} {told.format(noun=noun)}{relation[len(subject) :]}"
    return f"{verb} {relation}"


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _MISSING


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _scaled(want: Any, got: Any) -> str:
    if not (_number(want) and _number(got)) or got == 0:
        return ""
    for factor in SCALES:
        for value, sign in ((got * factor, "times"), (got / factor, "divided by")):
            scaled = f"the attempt's value {sign} {factor}"
            if _same_number(want, value):
                as_int = isinstance(want, int) and isinstance(value, float)
                return scaled + (", as an int" if as_int else "")
            if isinstance(want, int) and _fraction(got) and round(value) == want:
                return scaled + ", rounded to an int"
    return ""


def _fraction(value: Any) -> bool:
    return isinstance(value, float) and not value.is_integer()


def _same_number(want: Any, value: float) -> bool:
    return math.isclose(want, value, rel_tol=1e-9) and (
        isinstance(want, float) or float(value).is_integer()
    )


def _rounded(want: Any, got: Any) -> str:
    if not (_number(want) and _fraction(got)):
        return ""
    if isinstance(want, int) and want == round(got):
        return "the attempt's value rounded to an int"
    for places in (1, 2, 3):
        if want == round(got, places):
            return f"the attempt's value rounded to {places} decimal places"
    return ""


def _offset(want: Any, got: Any) -> str:
    whole = all(_number(v) and isinstance(v, int) for v in (want, got))
    if whole and abs(want - got) == 1:
        return f"the attempt's value {'+' if want > got else '-'} 1"
    return ""


def _case(want: Any, got: Any) -> str:
    for name, change in (("lower", str.lower), ("upper", str.upper)):
        if want == each_text(got, change):
            where = "" if isinstance(got, str) else " with every string"
            return f"the attempt's value{where} in {name} case"
    return ""


def each_text(value: Any, change: Callable[[str], str]) -> Any:
    """``value`` with ``change`` applied to every string in it (dict keys too)."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, (list, tuple)):
        return type(value)(each_text(item, change) for item in value)
    if isinstance(value, dict):
        return {each_text(k, change): each_text(v, change) for k, v in value.items()}
    return value


def _affix(want: Any, got: Any) -> str:
    if not (isinstance(want, str) and isinstance(got, str) and want and got):
        return ""
    if len(want) > len(got) and want.endswith(got):
        return f"the attempt's value with `{want[: -len(got)]}` in front"
    if len(want) > len(got) and want.startswith(got):
        return f"the attempt's value with `{want[len(got) :]}` after it"
    if len(got) > len(want) and got.endswith(want):
        return f"the attempt's value without the `{got[: -len(want)]}` in front"
    if len(got) > len(want) and got.startswith(want):
        return f"the attempt's value without the `{got[len(want) :]}` after it"
    return ""


def _ordered(want: Any, got: Any) -> str:
    if not isinstance(want, list) or not isinstance(got, (list, tuple, set, frozenset)):
        return ""
    try:
        ordered = sorted(got)
    except TypeError:
        return ""
    as_list = "" if isinstance(got, list) else " as a list"
    if want == ordered:
        return f"the attempt's items, sorted{as_list}"
    if want == ordered[::-1]:
        return f"the attempt's items, sorted in reverse{as_list}"
    return ""


def _clamped(want: Any, got: Any) -> str:
    if not (isinstance(want, (list, tuple)) and type(want) is type(got)):
        return ""
    if len(want) != len(got) or not all(_number(v) for v in (*want, *got)):
        return ""
    low, high = min(want), max(want)
    if list(want) != [min(max(g, low), high) for g in got]:
        return ""
    bounds = [f"at most {high}"] if any(g > high for g in got) else []
    bounds += [f"at least {low}"] if any(g < low for g in got) else []
    return f"the attempt's value with each number {' and '.join(bounds)}"


def _wrapped(want: Any, got: Any) -> str:
    if not isinstance(want, dict):
        return ""
    for key, value in want.items():
        if value == got and type(value) is type(got):
            shown = ", ".join(
                f"{k!r}: {'<the value>' if k == key else repr(v)}" for k, v in want.items()
            )
            return f"the attempt's value inside `{{{shown}}}`"
    return ""


def _retyped(want: Any, got: Any) -> str:
    if type(want) is type(got) or want is None or got is None:
        return ""
    return f"{_a(type(want).__name__)}, not {_a(type(got).__name__)}"


def _a(name: str) -> str:
    """A type's name with its article: ``a `str```, ``an `int```."""
    return f"{'an' if name[0] in 'aeiou' else 'a'} `{name}`"


_RELATIONS: tuple[Callable[[Any, Any], str], ...] = (
    _offset,
    _scaled,
    _rounded,
    _case,
    _affix,
    _ordered,
    _clamped,
    _wrapped,
    _retyped,
)
"""Tried in this order; the first that holds is said. An offset of one comes before a scale,
so that ``2`` against ``1`` reads as one more, not twice as much."""
