"""The trusted side of a verdict: runs the task's tests, calling the candidate across a boundary.

Runs as its own process with the standard library; the plain-data codec's source is prepended
at launch. Reads one JSON line, ``{"preamble", "setup", "tests", "stubs"}``: the task's
preamble (a HumanEval prompt: its imports and helpers), then, as stubs, each function of the
answer the tests may call. A stub writes ``{"op": "call", "name", "args", "kwargs"}`` to
stdout, reads the reply from stdin and returns its value, which can only be plain built-in
data; in-place changes to the arguments are copied back. Then the setup and each test run
here, where the expected values are. The last line written is ``{"op": "done", "setup_error",
"results", "checks"}``: per test ``null`` (passed), a failure, or ``{"needs_objects": why}`` for
a test that passes the candidate something that is not data; and per test the failed check as
a record (``null`` when none).
"""

import ast
import builtins
import contextlib
import io
import sys
import traceback
from typing import Any

from reflexion_graph.evaluators.code.stdlib_scripts._plain_data import (  # pasted in at launch
    NotPlainData,
    decode,
    dumps,
    encode,
    loads,
    same_value,
    shown,
)

_UNSET = object()


class NeedsObjects(Exception):
    """A call whose arguments are not plain data: the test needs the candidate's objects."""


class NotPlainResult(Exception):
    """The candidate returned something that is not plain data."""


class CandidateError(Exception):
    """The candidate raised an exception that is not a built-in one."""


class Channel:
    """Calls into the candidate's process, through the evaluator that relays them."""

    def __init__(self, replies: Any, requests: Any) -> None:
        self.replies, self.requests = replies, requests

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            message = {"op": "call", "name": name, "args": encode(list(args)),
                       "kwargs": encode(kwargs)}  # fmt: skip
        except NotPlainData as odd:
            raise NeedsObjects(f"{name}() was passed a {odd}, which is not plain data") from None
        self.requests.write(dumps(message))
        self.requests.flush()
        reply = loads(self.replies.readline() or "{}")
        if "not_plain" in reply:
            raise NotPlainResult(f"got {reply.get('shown', '')}: a {reply['not_plain']}, "
                                 "not plain data")  # fmt: skip
        if "error" in reply:
            raise _candidate_exception(reply)
        if "value" not in reply:
            raise CandidateError(f"the candidate's process gave no answer to {name}()")
        _copy_back(args, decode(reply["args"]))
        _copy_back(list(kwargs.values()), list(decode(reply["kwargs"]).values()))
        return decode(reply["value"])

    def stub(self, name: str) -> Any:
        def call_candidate(*args: Any, **kwargs: Any) -> Any:
            return self.call(name, args, kwargs)

        call_candidate.__name__ = call_candidate.__qualname__ = name
        return call_candidate


def _candidate_exception(reply: dict[str, Any]) -> Exception:
    """The candidate's error as the same built-in exception type, so tests can expect it.

    It carries the candidate's message; its traceback is kept for the feedback.
    """
    kind, message = str(reply.get("type", "")), str(reply.get("message", reply["error"]))
    found = getattr(builtins, kind, None)
    if isinstance(found, type) and issubclass(found, Exception) and kind != "AssertionError":
        error: Exception = found(message)
    else:
        error = CandidateError(message)
    error.candidate_traceback = str(reply["error"])  # type: ignore[attr-defined]
    error.candidate_type = kind  # type: ignore[attr-defined]
    return error


def _copy_back(originals: Any, changed: Any) -> None:
    """Apply the candidate's in-place changes to the test's own lists, dicts and sets."""
    if type(changed) is not list or len(changed) != len(originals):
        return
    for original, new in zip(originals, changed, strict=True):
        if type(original) is list and type(new) is list:
            original[:] = new
        elif type(original) in (dict, set) and type(new) is type(original):
            original.clear()
            original.update(new)


def _trimmed(error: BaseException) -> str:
    """The candidate's own traceback for its errors; the error's line for the tests' own."""
    from_candidate = getattr(error, "candidate_traceback", None)
    if from_candidate is not None or isinstance(error, NotPlainResult):
        return str(from_candidate or error)
    return "".join(traceback.format_exception_only(type(error), error)).strip()


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _UNSET


def _strict_shape(test: ast.expr) -> tuple[ast.expr, Any] | None:
    """``(expression, expected)`` for ``x == literal``, ``x``, ``not x``: judged type-strictly."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        expected = _literal(test.comparators[0])
        return None if expected is _UNSET else (test.left, expected)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return test.operand, False
    if isinstance(test, ast.Call | ast.Name | ast.Attribute | ast.Subscript):
        return test, True
    return None


def _evaluate(expression: ast.expr, namespace: dict[str, Any]) -> Any:
    return eval(compile(ast.Expression(expression), "<test>", "eval"), namespace)


def _expected_of(test: ast.stmt, namespace: dict[str, Any]) -> str:
    """X of ``assert x == X`` / ``is X``, shown, when it can be; else ``""``."""
    if not (isinstance(test, ast.Assert) and isinstance(test.test, ast.Compare)):
        return ""
    compare = test.test
    if len(compare.ops) != 1 or not isinstance(compare.ops[0], ast.Eq | ast.Is):
        return ""
    try:
        return shown(_evaluate(compare.comparators[0], namespace))
    except Exception:
        return ""


def run_test(source: str, namespace: dict[str, Any]) -> tuple[Any, Any]:
    """``(None, None)`` if the test passes, else ``(its failure, the check as a record)``.

    The failure is ``{"needs_objects": why}`` for a test that needs the candidate's objects
    (no record then). The record is ``{"kind", "check", "expected", "actual", "error"}``.
    """
    statement = ast.parse(source).body[0]
    shape = _strict_shape(statement.test) if isinstance(statement, ast.Assert) else None
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            if shape is None:
                exec(compile(source, "<test>", "exec"), namespace)
                return None, None
            actual = _evaluate(shape[0], namespace)
        if same_value(actual, shape[1]):
            return None, None
        expected, got = shown(shape[1]), shown(actual)
        return (
            f"failed: {source[:200]}  (expected {expected}, got {got})",
            _check(statement, shape[0], expected, actual=got),
        )
    except NeedsObjects as error:
        return {"needs_objects": str(error)}, None
    except NotPlainResult as error:
        expected = _expected_of(statement, namespace)
        said = f"expected {expected}, " if expected else ""
        return f"failed: {source[:200]}  ({said}{error})", _check(
            statement, _called(statement), expected, error=str(error)
        )
    except AssertionError:
        return _failed_assert(source, statement, namespace)
    except Exception as error:
        expected = _expected_of(statement, namespace)
        where = f"  (expected {expected})" if expected else ""
        return f"error in {source[:200]}{where}: {_trimmed(error)}", _check(
            statement, _called(statement), expected, error=_error_line(error)
        )


def _failed_assert(source: str, statement: ast.stmt, namespace: dict[str, Any]) -> tuple[str, Any]:
    """``failed: assert ...``, with both sides of an ``==`` / ``is`` when they can be shown."""
    expected = _expected_of(statement, namespace)
    if expected and isinstance(statement, ast.Assert) and isinstance(statement.test, ast.Compare):
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                actual = shown(_evaluate(statement.test.left, namespace))
            return (
                f"failed: {source[:200]}  (expected {expected}, got {actual})",
                _check(statement, statement.test.left, expected, actual=actual),
            )
        except Exception:
            pass
    return f"failed: {source[:200]}", _check(statement, None, "")


def _called(statement: ast.stmt) -> ast.expr | None:
    """The left side of ``assert x == X`` / ``is X``: what the check calls; else ``None``."""
    if isinstance(statement, ast.Assert) and isinstance(statement.test, ast.Compare):
        return statement.test.left
    return None


def _check(
    statement: ast.stmt,
    called: ast.expr | None,
    expected: str,
    *,
    actual: str = "",
    error: str = "",
) -> dict[str, str]:
    """The failed check as a record: a call's value, or a condition that had to hold."""
    if called is not None and expected:
        return {"kind": "value", "check": ast.unparse(called), "expected": expected,
                "actual": actual, "error": error}  # fmt: skip
    return {"kind": "condition", "check": ast.unparse(statement)[:200], "expected": "",
            "actual": "", "error": error}  # fmt: skip


def _error_line(error: BaseException) -> str:
    """``Type: message`` of an error, the candidate's own type for the candidate's errors."""
    kind = getattr(error, "candidate_type", "") or type(error).__name__
    message = str(error).strip().splitlines()
    return f"{kind}: {message[-1]}"[:200] if message else kind


def main() -> None:
    """Read the plan, run it, write the results."""
    requests = sys.stdout
    sys.stdout = io.StringIO()
    plan = loads(sys.stdin.readline())
    channel = Channel(sys.stdin, requests)
    namespace: dict[str, Any] = {"__name__": "__tests__"}
    report: dict[str, Any] = {"op": "done", "setup_error": None, "results": [], "checks": []}
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(str(plan["preamble"]), "<preamble>", "exec"), namespace)
    except Exception as error:
        report["setup_error"] = f"the task's preamble does not run: {_trimmed(error)}"
    namespace.update({name: channel.stub(name) for name in plan["stubs"]})
    for statement in plan["setup"] if report["setup_error"] is None else []:
        failure, _ = run_test(statement, namespace)
        if failure is not None:
            report["setup_error"] = failure
            break
    if report["setup_error"] is None:
        outcomes = [run_test(test, namespace) for test in plan["tests"]]
        report["results"] = [failure for failure, _ in outcomes]
        report["checks"] = [check for _, check in outcomes]
    requests.write(dumps(report))
    requests.flush()


if __name__ == "__main__":
    main()
