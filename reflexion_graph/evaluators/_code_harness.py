"""Runs candidate code against tests inside the sandbox process.

Reads ``{"preamble", "code", "tests", "entry_point", "marker"}`` as JSON from stdin and writes
one JSON report, prefixed by the caller's one-time ``marker``, as the last line of stdout. Uses the
standard library only.
"""

import ast
import contextlib
import io
import json
import linecache
import sys
import traceback
from typing import Any, TypeGuard

_MAX_REPR = 200
Report = dict[str, Any]


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


def _trimmed_traceback(error: BaseException) -> str:
    lines = traceback.format_exception_only(type(error), error)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == "<candidate>"]
    where = "".join(f"  line {f.lineno}: {f.line}\n" for f in frames[-3:])
    return (where + "".join(lines)).strip()


def _evaluate(expression: ast.expr, namespace: dict[str, Any]) -> object:
    return eval(compile(ast.Expression(expression), "<test>", "eval"), namespace)


def _is_equality(test: ast.expr) -> TypeGuard[ast.Compare]:
    """Whether a test reads ``actual == expected`` or ``actual is expected``."""
    return (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq | ast.Is)
    )


def _describe_failed_assert(node: ast.Assert, namespace: dict[str, Any]) -> str:
    source = ast.unparse(node.test)
    test = node.test
    if _is_equality(test):
        try:
            actual = _evaluate(test.left, namespace)
            expected = _evaluate(test.comparators[0], namespace)
            return f"failed: assert {source}  (expected {_short(expected)}, got {_short(actual)})"
        except Exception:
            pass
    return f"failed: assert {source}"


def _run_statement(node: ast.stmt, namespace: dict[str, Any]) -> str | None:
    """Run one test statement; return None on success or a failure message."""
    module = ast.Module(body=[node], type_ignores=[])
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(module, "<test>", "exec"), namespace)
        return None
    except AssertionError:
        if isinstance(node, ast.Assert):
            return _describe_failed_assert(node, namespace)
        return f"failed: {ast.unparse(node)}"
    except Exception as error:
        expected = _expected_of(node, namespace)
        return f"error in {ast.unparse(node)[:200]}{expected}: {_trimmed_traceback(error)}"


def _expected_of(node: ast.stmt, namespace: dict[str, Any]) -> str:
    """`` (expected X)`` for an ``assert call == X`` whose call raised, else nothing."""
    if not isinstance(node, ast.Assert):
        return ""
    test = node.test
    if _is_equality(test):
        try:
            return f"  (expected {_short(_evaluate(test.comparators[0], namespace))})"
        except Exception:
            return ""
    return ""


def run(payload: Report) -> Report:
    """Execute the candidate, then each test; report the total and the failures."""
    namespace: dict[str, Any] = {"__name__": "__candidate__"}
    code = payload["code"]
    linecache.cache["<candidate>"] = (len(code), None, code.splitlines(True), "<candidate>")
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(payload.get("preamble", ""), "<preamble>", "exec"), namespace)
            exec(compile(code, "<candidate>", "exec"), namespace)
    except BaseException as error:  # SyntaxError, SystemExit, anything the candidate raises
        return {"total": 1, "failures": [f"the code does not run: {_trimmed_traceback(error)}"]}
    try:
        tree = ast.parse(payload["tests"])
    except SyntaxError as error:
        return {"total": 0, "failures": [], "error": f"the tests do not parse: {error}"}
    tests: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.Assert):
            tests.append(node)
            continue
        failure = _run_statement(node, namespace)  # imports, helpers, check() run as setup
        if failure:
            return {"total": 0, "failures": [], "error": f"test setup failed: {failure}"}
    entry_point = payload.get("entry_point")
    if "check" in namespace and entry_point:
        if entry_point not in namespace:
            return {"total": 1, "failures": [f"the code does not define {entry_point!r}"]}
        tests.append(ast.parse(f"check({entry_point})").body[0])
    failures = [f for f in (_run_statement(node, namespace) for node in tests) if f]
    return {"total": len(tests), "failures": failures}


def main() -> None:
    """Read the payload, run it, write the marked report."""
    payload = json.loads(sys.stdin.read())
    report = run(payload)
    sys.stdout.write("\n" + payload["marker"] + json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
