"""A test suite as the trusted tests' process runs it: setup statements, then one test each.

Plain asserts are tests; other top-level statements are setup. HumanEval's
``check(candidate)`` is unrolled into its asserts, each a test, when it is made only of asserts;
otherwise ``check(<entry point>)`` is one test. For each answer, :func:`split_for` says which
of the answer's functions the tests call through stubs, and which tests name something of the
answer that is not a function (a class, a constant): those need the candidate's objects, not
values, and cannot be decided outside its process.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from reflexion_graph._records import FailedCheck, make_check
from reflexion_graph.errors import ConfigurationError


@dataclass(frozen=True)
class TestPlan:
    """The suite, split into setup statements and tests, with the names each reads."""

    setup: list[str]
    tests: list[str]
    setup_names: frozenset[str] = frozenset()
    """Names the setup reads."""
    test_names: list[frozenset[str]] = field(default_factory=list)
    """Per test, the names it reads."""
    defined: frozenset[str] = frozenset()
    """Names the preamble or the setup define: the tests use those, never the answer's."""


@dataclass(frozen=True)
class AnswerSplit:
    """How one answer's tests run: stubs for its functions, and what needs its objects."""

    stubs: list[str]
    needs_objects: dict[int, str]
    """Test index -> the names of the answer's objects it needs."""


def plan_tests(tests: str, entry_point: str | None = None, preamble: str = "") -> TestPlan:
    """Split ``tests`` (plain asserts, setup statements, or a HumanEval ``check``)."""
    tree = _parse(tests, "the task's tests")
    setup: list[ast.stmt] = []
    cases: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.Assert):
            cases.append(node)
        elif _is_check_function(node) and entry_point:
            unrolled = _unrolled_check(node, entry_point)
            if unrolled is None:
                setup.append(node)
                cases.append(ast.parse(f"check({entry_point})").body[0])
            else:
                cases += unrolled
        else:
            setup.append(node)
    if not cases:
        raise ConfigurationError("the task's tests contain no assert and no check()")
    preamble_body = _parse(preamble, "the task's preamble").body
    declared = _declarations(preamble_body)  # the answer implements these: they become stubs
    defined = (_defined_names(preamble_body) - declared) | _defined_names(setup)
    return TestPlan(
        setup=[ast.unparse(node) for node in setup],
        tests=[ast.unparse(node) for node in cases],
        setup_names=frozenset().union(*(_read_names(node) for node in setup)),
        test_names=[_read_names(node) for node in cases],
        defined=frozenset(defined - ({entry_point} if entry_point else set())),
    )


def stated_checks(plan: TestPlan) -> list[FailedCheck]:
    """Each test as a failed check read from its text: what a run that never reached them records.

    ``assert x == <literal>`` says what ``x`` had to return; any other test is a condition
    that had to hold. No value is shown as the answer's: none was computed.
    """
    checks = []
    for test in plan.tests:
        stated = _stated_value(ast.parse(test).body[0])
        if stated is None:
            checks.append(make_check("condition", test))
        else:
            checks.append(make_check("value", stated[0], expected=stated[1]))
    return checks


def _stated_value(node: ast.stmt) -> tuple[str, str] | None:
    """``(x, repr(X))`` of ``assert x == <literal X>``, as the tests' process shows them."""
    if not isinstance(node, ast.Assert) or not isinstance(node.test, ast.Compare):
        return None
    compare = node.test
    if len(compare.ops) != 1 or not isinstance(compare.ops[0], ast.Eq):
        return None
    try:
        value = ast.literal_eval(compare.comparators[0])
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return ast.unparse(compare.left), repr(value)


def split_for(plan: TestPlan, code: str, entry_point: str | None) -> AnswerSplit:
    """Which of the answer's functions become stubs, and which tests need its objects."""
    try:
        body = ast.parse(code).body
    except (SyntaxError, ValueError):
        return AnswerSplit(stubs=[entry_point] if entry_point else [], needs_objects={})
    functions = {n.name for n in body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    objects = _defined_names(body) - functions - plan.defined
    stubs = sorted(functions - plan.defined)
    needs_objects: dict[int, str] = {}
    for index, names in enumerate(plan.test_names):
        needed = objects & (names | plan.setup_names)
        if needed:
            needs_objects[index] = ", ".join(sorted(needed))
    return AnswerSplit(stubs=stubs, needs_objects=needs_objects)


def _parse(source: str, what: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as error:
        raise ConfigurationError(f"{what} do not parse: {error}") from error


def _declarations(body: list[ast.stmt]) -> set[str]:
    """Functions declared for the answer to write: no body but a docstring, ``pass``, ``...``.

    Imports count as no body: a HumanEval prompt may put ``import math`` above the docstring.
    """
    return {
        node.name
        for node in body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and all(_is_placeholder(statement) for statement in node.body)
    }


def _is_placeholder(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Pass | ast.Import | ast.ImportFrom):
        return True
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and (isinstance(statement.value.value, str) or statement.value.value is Ellipsis)
    )


def _defined_names(body: list[ast.stmt]) -> set[str]:
    """Names a module's top-level statements bind (functions, classes, assignments, imports)."""
    names: set[str] = set()
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.For | ast.With):
            names |= {
                n.id
                for n in ast.walk(node)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            }
    return names


def _read_names(node: ast.AST) -> frozenset[str]:
    return frozenset(
        n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    )


def _is_check_function(node: ast.stmt) -> bool:
    return isinstance(node, ast.FunctionDef) and node.name == "check"


def _unrolled_check(node: ast.stmt, entry_point: str) -> list[ast.stmt] | None:
    """HumanEval's ``def check(candidate)`` as its asserts, if it holds nothing else."""
    assert isinstance(node, ast.FunctionDef)
    parameter = node.args.args[0].arg if node.args.args else "candidate"
    asserts: list[ast.stmt] = []
    for statement in node.body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # a docstring or a stray string
        if isinstance(statement, ast.Pass):
            continue
        if not isinstance(statement, ast.Assert):
            return None
        asserts.append(_RenameName(parameter, entry_point).visit(statement))
    return asserts or None


class _RenameName(ast.NodeTransformer):
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(self.new, node.ctx) if node.id == self.old else node
