"""Runs candidate code inside the sandbox process and reports what its calls returned.

Reads ``{"preamble", "code", "entry_point", "setup", "calls", "in_process", "marker"}`` as JSON
from stdin.
Runs the preamble, the candidate's code and the tests' setup; evaluates each expression in
``calls`` and reports its value as plain data (a ``repr`` that ``ast.literal_eval`` reads back),
never comparing it: the expected values stay in the trusted parent. Tests in ``in_process``
(shapes the parent could not rewrite) run here as plain asserts. Writes one JSON report,
prefixed by the caller's ``marker``, as the last line of stdout. Uses the standard library only.
"""

import ast
import contextlib
import io
import json
import linecache
import sys
import traceback
from typing import Any

_PLAIN = (type(None), bool, int, float, str, list, tuple, dict, set, frozenset)
_MAX_VALUE_CHARS = 20_000
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


def _not_plain(value: object, depth: int = 0) -> str | None:
    """The type name of the first part of ``value`` that is not plain data, else None."""
    if type(value) not in _PLAIN or depth > 50:
        return type(value).__name__
    if isinstance(value, dict):
        parts: list[object] = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset):
        parts = list(value)
    else:
        return None
    for part in parts:
        found = _not_plain(part, depth + 1)
        if found:
            return found
    return None


def _value_of(call: str, namespace: dict[str, Any]) -> Report:
    """``{"value": repr}``, ``{"error": ...}`` or ``{"not_plain": type name}`` for one call."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            value = eval(compile(call, "<test>", "eval"), namespace)
    except Exception as error:
        return {"error": _trimmed_traceback(error)}
    kind = _not_plain(value)
    if kind:
        return {"not_plain": kind, "shown": _short(value)}
    text = repr(value)
    if len(text) > _MAX_VALUE_CHARS:
        return {"not_plain": f"{type(value).__name__} over {_MAX_VALUE_CHARS} characters"}
    return {"value": text}


def _evaluate(expression: ast.expr, namespace: dict[str, Any]) -> object:
    return eval(compile(ast.Expression(expression), "<test>", "eval"), namespace)


def _failed_assert(source: str, namespace: dict[str, Any]) -> str:
    """``failed: assert ...``, with both sides of an ``==`` when they can be shown."""
    test = ast.parse(source).body[0]
    if (
        isinstance(test, ast.Assert)
        and isinstance(test.test, ast.Compare)
        and len(test.test.ops) == 1
        and isinstance(test.test.ops[0], ast.Eq)
    ):
        try:
            actual = _evaluate(test.test.left, namespace)
            expected = _evaluate(test.test.comparators[0], namespace)
            return f"failed: {source[:200]}  (expected {_short(expected)}, got {_short(actual)})"
        except Exception:
            pass
    return f"failed: {source[:200]}"


def _run_test(source: str, namespace: dict[str, Any]) -> str | None:
    """Run one untrusted test statement; None on success, else a failure message."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, "<test>", "exec"), namespace)
        return None
    except AssertionError:
        return _failed_assert(source, namespace)
    except Exception as error:
        return f"error in {source[:200]}: {_trimmed_traceback(error)}"


def run(payload: Report) -> Report:
    """Execute the candidate and the setup, then evaluate each call and untrusted test."""
    namespace: dict[str, Any] = {"__name__": "__candidate__"}
    code = payload["code"]
    linecache.cache["<candidate>"] = (len(code), None, code.splitlines(True), "<candidate>")
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(payload.get("preamble", ""), "<preamble>", "exec"), namespace)
            exec(compile(code, "<candidate>", "exec"), namespace)
    except BaseException as error:  # SyntaxError, SystemExit, anything the candidate raises
        return {"crashed": f"the code does not run: {_trimmed_traceback(error)}"}
    entry_point = payload.get("entry_point")
    if entry_point and entry_point not in namespace:
        return {"crashed": f"the code does not define {entry_point!r}"}
    for statement in ast.parse(payload["setup"]).body:
        failure = _run_test(ast.unparse(statement), namespace)
        if failure:
            return {"setup_error": failure}
    return {
        "values": [_value_of(call, namespace) for call in payload["calls"]],
        "in_process_failures": [
            failure
            for failure in (_run_test(test, namespace) for test in payload["in_process"])
            if failure
        ],
    }


def main() -> None:
    """Read the payload, run it, write the marked report."""
    payload = json.loads(sys.stdin.read())
    report = run(payload)
    sys.stdout.write("\n" + payload["marker"] + json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
