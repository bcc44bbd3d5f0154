"""Splits a test suite into what the candidate's process may see and what it may not.

A test of the shape ``assert call == literal`` (or ``is``, ``assert call``, ``assert not call``,
``assert abs(call - literal) < tolerance``) becomes a :class:`Check`: the sandbox evaluates only
``call`` and returns its value as plain data; the trusted parent compares it with the expected
value, which never enters the candidate's process. HumanEval's ``check(candidate)`` is rewritten
the same way when every statement in it has that shape. Any other test runs inside the sandbox
as before and makes the verdict less trusted: the candidate's process decides it.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any

from reflexion_graph.errors import ConfigurationError


@dataclass(frozen=True)
class Check:
    """One rewritten test: the expression to evaluate in the sandbox, and what it must equal."""

    source: str
    """The test as written (shown in feedback)."""
    call: str
    """The expression the sandbox evaluates; its value comes back as plain data."""
    expected: Any
    tolerance: float | None = None
    """Numbers within this distance count as equal (``abs(call - x) < tolerance`` tests)."""

    def passes(self, actual: Any) -> bool:
        """Whether the plain-data ``actual`` equals the expected value, type-strictly."""
        if self.tolerance is not None:
            return _is_number(actual) and abs(actual - self.expected) < self.tolerance
        return same_value(actual, self.expected)


@dataclass(frozen=True)
class TestPlan:
    """The suite, split: setup and untrusted tests run in the sandbox; checks are trusted."""

    setup: str
    """Statements that are not tests (imports, helpers, inputs): they run after the code."""
    checks: list[Check] = field(default_factory=list)
    in_process: list[str] = field(default_factory=list)
    """Tests the sandbox must decide itself (their shape could not be rewritten)."""

    @property
    def trusted(self) -> bool:
        """Whether the whole verdict is decided outside the candidate's process."""
        return not self.in_process


def plan_tests(tests: str, entry_point: str | None = None) -> TestPlan:
    """Split ``tests`` (plain asserts, setup statements, or a HumanEval ``check``)."""
    try:
        tree = ast.parse(tests)
    except SyntaxError as error:
        raise ConfigurationError(f"the task's tests do not parse: {error}") from error
    setup: list[ast.stmt] = []
    checks: list[Check] = []
    in_process: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assert):
            check = _rewrite(node)
            if check is None:
                in_process.append(ast.unparse(node))
            else:
                checks.append(check)
        elif _is_check_function(node) and entry_point:
            rewritten = _rewrite_check_function(node, entry_point)
            if rewritten is None:
                setup.append(node)
                in_process.append(f"check({entry_point})")
            else:
                checks += rewritten
        else:
            setup.append(node)
    if not checks and not in_process:
        raise ConfigurationError("the task's tests contain no assert and no check()")
    return TestPlan(ast.unparse(ast.Module(body=setup, type_ignores=[])), checks, in_process)


def same_value(actual: Any, expected: Any) -> bool:
    """Plain-data equality where ``True`` is not ``1`` and a list is not a tuple."""
    if isinstance(expected, bool) or expected is None:
        return actual is expected
    if _is_number(expected):
        return _is_number(actual) and actual == expected
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, list | tuple):
        return len(actual) == len(expected) and all(
            same_value(a, e) for a, e in zip(actual, expected, strict=True)
        )
    if isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(
            same_value(actual[key], value) for key, value in expected.items()
        )
    return bool(actual == expected)


def _is_number(value: Any) -> bool:
    return type(value) in (int, float) and not (type(value) is float and math.isnan(value))


def _literal(node: ast.expr) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _rewrite(node: ast.Assert) -> Check | None:
    """The :class:`Check` for one assert, or ``None`` when its shape is not one we rewrite."""
    source, test = f"assert {ast.unparse(node.test)}", node.test
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        op, right = test.ops[0], test.comparators[0]
        if isinstance(op, ast.Eq | ast.Is):
            known, expected = _literal(right)
            if known and (
                isinstance(op, ast.Eq) or any(expected is v for v in (None, True, False))
            ):
                return Check(source, ast.unparse(test.left), expected)
        if isinstance(op, ast.Lt | ast.LtE):
            return _rewrite_close(source, test.left, right)
        return None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return Check(source, ast.unparse(test.operand), False)
    if isinstance(test, ast.Call | ast.Name | ast.Attribute | ast.Subscript):
        return Check(source, ast.unparse(test), True)
    return None


def _rewrite_close(source: str, left: ast.expr, bound: ast.expr) -> Check | None:
    """``abs(call - expected) < tolerance`` (either order inside ``abs``)."""
    known, tolerance = _literal(bound)
    if not (
        known
        and _is_number(tolerance)
        and isinstance(left, ast.Call)
        and isinstance(left.func, ast.Name)
        and left.func.id == "abs"
        and len(left.args) == 1
        and isinstance(left.args[0], ast.BinOp)
        and isinstance(left.args[0].op, ast.Sub)
    ):
        return None
    difference = left.args[0]
    for call, other in ((difference.left, difference.right), (difference.right, difference.left)):
        is_literal, expected = _literal(other)
        if is_literal and _is_number(expected):
            return Check(source, ast.unparse(call), expected, tolerance=float(tolerance))
    return None


def _is_check_function(node: ast.stmt) -> bool:
    return isinstance(node, ast.FunctionDef) and node.name == "check"


def _rewrite_check_function(node: ast.stmt, entry_point: str) -> list[Check] | None:
    """HumanEval's ``def check(candidate)`` as checks, if every statement is a test we rewrite."""
    assert isinstance(node, ast.FunctionDef)
    parameter = node.args.args[0].arg if node.args.args else "candidate"
    checks = []
    for statement in node.body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # a docstring or a stray string
        if isinstance(statement, ast.Pass):
            continue
        if not isinstance(statement, ast.Assert):
            return None
        renamed = _RenameName(parameter, entry_point).visit(statement)
        check = _rewrite(renamed)
        if check is None:
            return None
        checks.append(check)
    return checks or None


class _RenameName(ast.NodeTransformer):
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(self.new, node.ctx) if node.id == self.old else node
