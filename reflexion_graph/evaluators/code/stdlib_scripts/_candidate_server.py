"""The candidate's side of a verdict: runs the answer's code and answers calls, with data only.

Runs inside the sandbox with the standard library only; the plain-data codec's source is
prepended to this file at launch. Reads one JSON request a line from stdin and writes one reply
a line to the stdout it started with (the code's own prints go nowhere):

- ``{"op": "load", "preamble", "code", "entry_point"}``: run them; ``{"ok": true}`` or
  ``{"crashed": why}``.
- ``{"op": "call", "name", "args", "kwargs"}``: call a function the code defined, with
  arguments sent as plain data; ``{"value", "args", "kwargs"}`` (the arguments after the call,
  so in-place changes travel back), ``{"error", "type", "message"}`` or
  ``{"not_plain", "shown"}``.
- ``{"op": "exec", "source"}``: run one test statement here, for a test that needs the
  candidate's own objects; ``{"ok": true}`` or ``{"failure": why}``.

The tests and their expected values never come here, except a test sent with ``exec``.
"""

import contextlib
import io
import linecache
import os
import sys
import traceback
from typing import Any

from reflexion_graph.evaluators.code.stdlib_scripts._plain_data import (  # pasted in at launch
    NotPlainData,
    decode,
    dumps,
    encode,
    loads,
    shown,
)


def _trimmed_traceback(error: BaseException) -> str:
    lines = traceback.format_exception_only(type(error), error)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == "<candidate>"]
    where = "".join(f"  line {f.lineno}: {f.line}\n" for f in frames[-3:])
    return (where + "".join(lines)).strip()


def _message(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:
        return type(error).__name__


class Candidate:
    """The answer's namespace, and what each request does with it."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"__name__": "__candidate__"}

    def load(self, request: dict[str, Any]) -> dict[str, Any]:
        code = str(request["code"])
        linecache.cache["<candidate>"] = (len(code), None, code.splitlines(True), "<candidate>")
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(str(request["preamble"]), "<preamble>", "exec"), self.namespace)
                exec(compile(code, "<candidate>", "exec"), self.namespace)
        except BaseException as error:  # SyntaxError, SystemExit, anything the code raises
            return {"crashed": f"the code does not run: {_trimmed_traceback(error)}"}
        entry_point = request.get("entry_point")
        if entry_point and entry_point not in self.namespace:
            return {"crashed": f"the code does not define {entry_point!r}"}
        return {"ok": True}

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        function = self.namespace.get(str(request["name"]))
        if not callable(function):
            return {"error": f"NameError: the code does not define {request['name']!r}",
                    "type": "NameError"}  # fmt: skip
        args, kwargs = decode(request["args"]), decode(request["kwargs"])
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                value = function(*args, **kwargs)
        except Exception as error:
            return {"error": _trimmed_traceback(error), "type": type(error).__name__,
                    "message": _message(error)}  # fmt: skip
        try:
            return {"value": encode(value), "args": encode(args), "kwargs": encode(kwargs)}
        except NotPlainData as odd:
            return {"not_plain": str(odd), "shown": shown(value)}

    def exec(self, request: dict[str, Any]) -> dict[str, Any]:
        source = str(request["source"])
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(source, "<test>", "exec"), self.namespace)
        except AssertionError:
            return {"failure": f"failed: {source[:200]}"}
        except Exception as error:
            return {"failure": f"error in {source[:200]}: {_trimmed_traceback(error)}"}
        return {"ok": True}


def main() -> None:
    """Answer requests until stdin closes."""
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the code's writes to fd 1 go nowhere
    candidate = Candidate()
    handlers = {"load": candidate.load, "call": candidate.call, "exec": candidate.exec}
    for line in sys.stdin:
        request: dict[str, Any] = {}
        try:
            request = loads(line)
            reply = handlers[str(request["op"])](request)
        except (KeyError, ValueError) as error:
            reply = {"error": f"bad request: {error}", "type": "ProtocolError"}
        except RecursionError:
            reply = {"error": "RecursionError: maximum recursion depth exceeded",
                     "type": "RecursionError"}  # fmt: skip
        replies.write(dumps({"id": request.get("id"), **reply}))
        replies.flush()


if __name__ == "__main__":
    main()
