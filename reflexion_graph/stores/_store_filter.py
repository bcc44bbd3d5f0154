"""LangGraph's store filters, with the meaning LangGraph's own stores give them.

A filter maps a field to a value (equality; a dict is a partial match of a nested object, a
list or tuple matches element by element) or to operators: ``$eq``, ``$ne``, ``$gt``,
``$gte``, ``$lt``, ``$lte``. Comparisons are numeric, as in ``InMemoryStore`` and PostgreSQL's
JSONB (``"10" > 5``); a stored value that is missing or not a number does not match (where
``InMemoryStore`` raises, PostgreSQL returns no row). Equality is Python's (``True == 1``,
exact big integers). A filter this module cannot answer raises ``ValueError`` at once.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

_ORDERINGS: dict[str, Callable[[float, float], bool]] = {
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}
OPERATORS = ("$eq", "$ne", *_ORDERINGS)
"""The operators a filter may use."""


def check_filter(conditions: Mapping[str, Any] | None) -> None:
    """Raise ``ValueError`` naming the first condition that no store could answer."""
    if conditions is None:
        return
    if not isinstance(conditions, Mapping):
        raise ValueError(f"a store filter is a dict of field conditions, got {conditions!r}")
    for field, expected in conditions.items():
        _check_condition(str(field), expected)


def matches(value: Any, conditions: Mapping[str, Any] | None) -> bool:
    """Whether a stored ``value`` meets every condition of a checked filter."""
    return all(
        _compare(value.get(field) if isinstance(value, Mapping) else None, expected)
        for field, expected in (conditions or {}).items()
    )


EXACT_FLOAT_LIMIT = 2**53
"""Integers up to this size are floats exactly: a database compares them as Python does."""


def equal_alternatives(conditions: Mapping[str, Any] | None) -> dict[str, list[Any]]:
    """Top-level equalities a database can narrow by: per field, the stored values that match.

    Text matches itself; a number matches the same number stored as an int or a float (and
    ``True`` / ``False`` for 1 / 0); a bool matches itself and its number. Anything else (big
    integers, nested values, orderings) is left to :func:`matches`.
    """
    found: dict[str, list[Any]] = {}
    for field, expected in (conditions or {}).items():
        if isinstance(expected, Mapping) and set(expected) == {"$eq"}:
            expected = expected["$eq"]
        if isinstance(expected, str):
            found[str(field)] = [expected]
        elif isinstance(expected, bool):
            found[str(field)] = [expected, int(expected)]
        elif isinstance(expected, int | float) and _exact_float(expected):
            found[str(field)] = [expected, *([bool(expected)] if expected in (0, 1) else [])]
    return found


def stored_for_filters(value: Any) -> bool:
    """Whether a top-level value is stored where the database can compare it exactly."""
    if isinstance(value, str | bool):
        return True
    return isinstance(value, int | float) and _exact_float(value)


def _exact_float(number: int | float) -> bool:
    return math.isfinite(number) and abs(number) <= EXACT_FLOAT_LIMIT


def _check_condition(path: str, expected: Any) -> None:
    if isinstance(expected, Mapping):
        names = [str(name) for name in expected]
        if any(name.startswith("$") for name in names):
            for name, operand in expected.items():
                if name not in OPERATORS:
                    raise ValueError(
                        f"Unsupported operator: {name} in the filter on {path!r} "
                        f"(supported: {', '.join(OPERATORS)})"
                    )
                if name in _ORDERINGS and _number(operand) is None:
                    raise ValueError(f"filter on {path!r}: {name} needs a number, got {operand!r}")
            return
        for name, inner in expected.items():
            _check_condition(f"{path}.{name}", inner)
    elif isinstance(expected, list | tuple):
        for n, inner in enumerate(expected):
            _check_condition(f"{path}[{n}]", inner)


def _compare(actual: Any, expected: Any) -> bool:
    if isinstance(expected, Mapping):
        if any(str(name).startswith("$") for name in expected):
            return all(_apply(actual, name, operand) for name, operand in expected.items())
        return isinstance(actual, Mapping) and all(
            _compare(actual.get(name), inner) for name, inner in expected.items()
        )
    if isinstance(expected, list | tuple):
        return (
            isinstance(actual, list | tuple)
            and len(actual) == len(expected)
            and all(_compare(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return bool(actual == expected)


def _apply(actual: Any, name: str, operand: Any) -> bool:
    if name == "$eq":
        return bool(actual == operand)
    if name == "$ne":
        return bool(actual != operand)
    number, bound = _number(actual), _number(operand)
    return number is not None and bound is not None and _ORDERINGS[name](number, bound)


def _number(value: Any) -> float | None:
    """``float(value)`` as LangGraph's stores take it (``"10"``, ``True``), else ``None``."""
    if isinstance(value, Mapping | list | tuple) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return None if math.isnan(number) else number
