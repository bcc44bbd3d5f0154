"""A task's checks as calls with values: parsed once, read by every proposer.

``assert name(...) == <literal>`` (or ``is``) is a call with an expected value; its arguments
are known where each is a plain literal. Any other check still counts when a change is verified
(every check must pass), but proposes nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_MISSING = object()


@dataclass(frozen=True)
class CheckCall:
    """One check that calls a function with literal arguments and compares to a literal."""

    function: str
    args: tuple[Any, ...]
    """The arguments' values; empty where one is not a plain literal (``bytes([1])``)."""
    keywords: tuple[str, ...]
    """The keyword names of the last ``len(keywords)`` values of ``args``."""
    expected: Any

    @property
    def text(self) -> str:
        """The call as Python writes it (``f(...)`` where an argument is no plain literal)."""
        if not self.args:
            return f"{self.function}(...)"
        values = [repr(v) for v in self.args[: self.positional]]
        named = [
            f"{k}={v!r}" for k, v in zip(self.keywords, self.args[self.positional :], strict=True)
        ]
        return f"{self.function}({', '.join([*values, *named])})"

    @property
    def positional(self) -> int:
        """How many of ``args`` are passed by position."""
        return len(self.args) - len(self.keywords)


def check_call(test: str) -> CheckCall | None:
    """``test`` as a :class:`CheckCall`, or ``None`` where it is not one."""
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
    if any(k.arg is None for k in call.keywords):
        return None
    values = [literal(node) for node in [*call.args, *(k.value for k in call.keywords)]]
    expected = literal(compare.comparators[0])
    if expected is _MISSING:
        return None
    if any(value is _MISSING for value in values):
        return CheckCall(call.func.id, (), (), expected)  # a value to fit, no arguments to change
    keywords = tuple(str(k.arg) for k in call.keywords)
    return CheckCall(call.func.id, tuple(values), keywords, expected)


def literal(node: ast.expr | str) -> Any:
    """The value of a literal node or text, or :data:`MISSING` where it is not a plain literal."""
    if isinstance(node, ast.Starred):
        return _MISSING
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _MISSING


MISSING = _MISSING
"""What :func:`literal` gives for something that is not a plain literal."""


def parameters_of(code: str, function: str) -> list[str]:
    """The positional parameter names of ``function`` as ``code`` defines it (``[]`` if not)."""
    try:
        body = ast.parse(code).body
    except (SyntaxError, ValueError):
        return []
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function:
            return [a.arg for a in [*node.args.posonlyargs, *node.args.args]]
    return []


def argument_names(call: CheckCall, parameters: Sequence[str]) -> list[str]:
    """Each argument's name in the function (its parameter or keyword), ``""`` where unknown."""
    positional = [*parameters[: call.positional]]
    positional += [""] * (call.positional - len(positional))
    return [*positional, *call.keywords]


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (``1`` is not ``True``, nor ``1.0``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    try:
        return bool(a == b)
    except Exception:
        return False
