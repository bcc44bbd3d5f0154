"""Plain data across the process boundary: exact built-in values as JSON, nothing with behaviour.

Both sandbox scripts carry this module's source (they run with the standard library only), and
the evaluator imports it. ``encode`` accepts exact built-in types only, and the standard
library's value types (``date``, ``datetime``, ``time``, ``timedelta``, ``Decimal``,
``Fraction``); a subclass of any of them is refused. ``decode`` rebuilds exactly those types
from their fields, so nothing read back can run code or answer a comparison its own way.
``same_value`` is the type-strict equality the verdicts use for ``assert x == y``.
"""

import datetime
import decimal
import fractions
import json
import math
from typing import Any

MAX_DEPTH = 50
MAX_MESSAGE_CHARS = 2_000_000
"""The longest message either side reads; a longer one is refused, not parsed."""
_TAGS = ("$t", "$d", "$s", "$fs", "$f", "$b", "$c", *(f"${name}" for name in (
    "date", "datetime", "time", "timedelta", "decimal", "fraction")))  # fmt: skip
_ISO_TYPES: dict[str, Any] = {
    "$date": datetime.date,
    "$datetime": datetime.datetime,
    "$time": datetime.time,
}


class NotPlainData(TypeError):
    """A value that is not made of exact built-in data types (its type name is the message)."""


def encode(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-ready data; raises :class:`NotPlainData` naming the first odd part."""
    kind = type(value)
    if depth > MAX_DEPTH:
        raise NotPlainData(f"{kind.__name__} nested over {MAX_DEPTH} levels")
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value if math.isfinite(value) else {"$f": repr(value)}
    if kind is list:
        return [encode(item, depth + 1) for item in value]
    if kind is tuple:
        return {"$t": [encode(item, depth + 1) for item in value]}
    if kind is dict:
        return {"$d": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if kind in (set, frozenset):
        tag = "$s" if kind is set else "$fs"
        return {tag: [encode(item, depth + 1) for item in value]}
    if kind is bytes:
        return {"$b": value.hex()}
    if kind is complex:
        return {"$c": [encode(value.real), encode(value.imag)]}
    return _encode_value_type(value)


def _encode_value_type(value: Any) -> Any:
    """A standard-library value type by its fields (a timezone only as a fixed offset)."""
    kind = type(value)
    if kind is datetime.date:
        return {"$date": value.isoformat()}
    if kind in (datetime.datetime, datetime.time) and _fixed_zone(value.tzinfo):
        return {"$datetime" if kind is datetime.datetime else "$time": value.isoformat()}
    if kind is datetime.timedelta:
        return {"$timedelta": [value.days, value.seconds, value.microseconds]}
    if kind is decimal.Decimal:
        return {"$decimal": str(value)}
    if kind is fractions.Fraction:
        return {"$fraction": [value.numerator, value.denominator]}
    raise NotPlainData(kind.__name__)


def _fixed_zone(zone: Any) -> bool:
    return zone is None or type(zone) is datetime.timezone


def decode(data: Any, depth: int = 0) -> Any:
    """The value :func:`encode` wrote; ``ValueError`` for anything it could not have written."""
    if depth > MAX_DEPTH:
        raise ValueError("plain data nested too deep")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode(item, depth + 1) for item in data]
    if type(data) is not dict or len(data) != 1 or next(iter(data)) not in _TAGS:
        raise ValueError(f"not plain data: {str(data)[:80]}")
    ((tag, body),) = data.items()
    if tag == "$f":
        if body not in ("inf", "-inf", "nan"):
            raise ValueError(f"not a float: {body!r}")
        return float(body)
    if tag == "$b":
        return bytes.fromhex(str(body))
    if tag in _ISO_TYPES:
        return _ISO_TYPES[tag].fromisoformat(str(body))
    if tag == "$decimal":
        return decimal.Decimal(str(body))
    if type(body) is not list:
        raise ValueError(f"not plain data: {str(data)[:80]}")
    items = [decode(item, depth + 1) for item in body]
    try:
        return _built(tag, items)
    except (TypeError, ZeroDivisionError, OverflowError) as error:  # e.g. an unhashable key
        raise ValueError(f"not plain data: {error}") from None


def _built(tag: str, items: list[Any]) -> Any:
    if tag == "$t":
        return tuple(items)
    if tag == "$s":
        return set(items)
    if tag == "$fs":
        return frozenset(items)
    if tag == "$c":
        return complex(*items)
    if tag == "$timedelta":
        return datetime.timedelta(*items)
    if tag == "$fraction":
        return fractions.Fraction(*items)
    return {_pair(item)[0]: _pair(item)[1] for item in items}


def _pair(item: Any) -> list[Any]:
    if type(item) is not list or len(item) != 2:
        raise ValueError("a dict entry is not a [key, value] pair")
    return item


def dumps(message: dict[str, Any]) -> str:
    """One protocol line."""
    return json.dumps(message, separators=(",", ":")) + "\n"


def loads(line: str) -> dict[str, Any]:
    """A protocol line as a dict; ``ValueError`` if it is too long or not one."""
    if len(line) > MAX_MESSAGE_CHARS:
        raise ValueError(f"a message over {MAX_MESSAGE_CHARS} characters")
    message = json.loads(line)
    if type(message) is not dict:
        raise ValueError("a message is not a JSON object")
    return message


def same_value(actual: Any, expected: Any) -> bool:
    """Plain-data equality where ``True`` is not ``1`` and a list is not a tuple."""
    if type(expected) is bool or expected is None:
        return actual is expected
    if is_number(expected):
        return is_number(actual) and actual == expected
    if type(actual) is not type(expected):
        return False
    if type(expected) in (list, tuple):
        return len(actual) == len(expected) and all(
            same_value(a, e) for a, e in zip(actual, expected, strict=True)
        )
    if type(expected) is dict:
        return actual.keys() == expected.keys() and all(
            same_value(actual[key], value) for key, value in expected.items()
        )
    return bool(actual == expected)


def is_number(value: Any) -> bool:
    """An exact ``int`` or a ``float`` that is not NaN (``bool`` is not a number here)."""
    return type(value) in (int, float) and not (type(value) is float and math.isnan(value))


MAX_SHOWN = 200
"""How much of a value a verdict shows."""


def shown(value: object) -> str:
    """``repr(value)``, cut to :data:`MAX_SHOWN` characters (one that cannot be shown: its type)."""
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."
