"""Trusted tests in one process, the untrusted candidate in another, and this one between them.

The candidate's process (the sandbox, ``_candidate_server``) holds the answer's code and never
sees a test or an expected value. The tests' process (``_trusted_runner``) runs the task's
tests, calling the answer through stubs. This process relays each call and its reply, one at
a time, with a time limit per call and per evaluation. Every reply is plain data, so nothing
the candidate does can reach the tests' comparisons but the values it returns.
"""

from __future__ import annotations

import functools
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from reflexion_graph.evaluators import _plain_data as plain
from reflexion_graph.evaluators._sandbox import SandboxedProcess, SandboxLimits, sandboxed_python

_CODEC_IMPORT = "from reflexion_graph.evaluators._plain_data import ("
_LIMIT_SIGNALS: dict[int, str] = {
    signal.SIGXCPU: "used up its CPU-time limit (an infinite loop or far too slow)",
    signal.SIGKILL: "was killed by a resource limit (CPU time or memory)",
    signal.SIGXFSZ: "wrote more output than allowed",
}
TestResult = str | dict[str, str] | None
"""Per test: ``None`` (passed), its failure, or ``{"needs_objects": why}``."""


@dataclass
class TestRun:
    """What the two processes made of one answer."""

    stopped: str | None = None
    """Why the evaluation stopped before its tests ran to the end (crash, time-out)."""
    setup_error: str | None = None
    results: list[TestResult] = field(default_factory=list)


class Stopped(Exception):
    """The evaluation cannot go on; the message says why, for the reflector."""


@dataclass
class _Pipe:
    """Line-at-a-time reads and writes on a child's pipes, each bounded by a deadline."""

    reads: IO[bytes]
    writes: IO[bytes]
    name: str
    buffer: bytes = b""

    def __post_init__(self) -> None:
        os.set_blocking(self.reads.fileno(), False)
        os.set_blocking(self.writes.fileno(), False)

    def send(self, message: dict[str, Any], deadline: float) -> None:
        data = plain.dumps(message).encode()
        while data:
            _wait(self.writes, deadline, "w", f"{self.name} stopped reading")
            try:
                data = data[os.write(self.writes.fileno(), data) :]
            except BrokenPipeError:
                raise Stopped(f"{self.name} ended") from None

    def receive(self, deadline: float) -> dict[str, Any]:
        while b"\n" not in self.buffer:
            _wait(self.reads, deadline, "r", f"{self.name} timed out")
            chunk = os.read(self.reads.fileno(), 1 << 16)
            if not chunk:
                raise Stopped(f"{self.name} ended")
            self.buffer += chunk
            if len(self.buffer) > plain.MAX_MESSAGE_CHARS:
                raise Stopped(f"{self.name} sent a message over {plain.MAX_MESSAGE_CHARS} bytes")
        line, _, self.buffer = self.buffer.partition(b"\n")
        try:
            return plain.loads(line.decode("utf-8", errors="replace"))
        except ValueError as error:
            raise Stopped(f"{self.name} sent a malformed message ({error})") from None


def _wait(stream: IO[bytes], deadline: float, mode: str, why: str) -> None:
    remaining = deadline - time.monotonic()
    ready = select.select(
        *(([stream], [], []) if mode == "r" else ([], [stream], [])), max(0, remaining)
    )
    if not any(ready):
        raise TimeoutError(why)


def run_tests_across(
    *,
    preamble: str,
    code: str,
    entry_point: str | None,
    setup: list[str],
    tests: list[str],
    stubs: list[str],
    limits: SandboxLimits,
) -> TestRun:
    """Load ``code`` in the sandbox, run ``tests`` in the trusted process, relay the calls."""
    started = time.monotonic()
    deadline = started + limits.timeout_s
    with (
        sandboxed_python(script("_candidate_server.py"), limits) as sandbox,
        _tests_process() as runner,
    ):
        assert sandbox.process.stdin and sandbox.process.stdout
        assert runner.stdin and runner.stdout
        candidate = _Pipe(sandbox.process.stdout, sandbox.process.stdin, "the candidate's process")
        tests_side = _Pipe(runner.stdout, runner.stdin, "the tests' process")
        try:
            candidate.send({"op": "load", "preamble": preamble, "code": code,
                            "entry_point": entry_point}, deadline)  # fmt: skip
            loaded = candidate.receive(deadline)
            if "crashed" in loaded:
                return TestRun(stopped=str(loaded["crashed"]))
            tests_side.send({"preamble": preamble, "setup": setup, "tests": tests,
                             "stubs": stubs}, deadline)  # fmt: skip
            return _relay(candidate, tests_side, deadline, limits)
        except TimeoutError as late:
            return TestRun(stopped=_timed_out(limits, str(late)))
        except Stopped as stop:
            return TestRun(stopped=_ended(sandbox, limits, str(stop)))


def run_in_candidate(
    *, preamble: str, code: str, statements: list[str], limits: SandboxLimits
) -> list[str | None]:
    """Run test statements inside the candidate's own process (they need its objects)."""
    deadline = time.monotonic() + limits.timeout_s
    with sandboxed_python(script("_candidate_server.py"), limits) as sandbox:
        assert sandbox.process.stdin and sandbox.process.stdout
        candidate = _Pipe(sandbox.process.stdout, sandbox.process.stdin, "the candidate's process")
        try:
            candidate.send({"op": "load", "preamble": preamble, "code": code,
                            "entry_point": None}, deadline)  # fmt: skip
            loaded = candidate.receive(deadline)
            if "crashed" in loaded:
                return [str(loaded["crashed"])] * len(statements)
            outcomes: list[str | None] = []
            for statement in statements:
                candidate.send({"op": "exec", "source": statement}, deadline)
                reply = candidate.receive(deadline)
                outcomes.append(None if reply.get("ok") is True else str(reply.get("failure")))
            return outcomes
        except (TimeoutError, Stopped) as stop:
            return [f"error in the tests run inside the candidate's process: {stop}"] * len(
                statements
            )


def _relay(candidate: _Pipe, tests_side: _Pipe, deadline: float, limits: SandboxLimits) -> TestRun:
    """Pass each call of the tests to the candidate and its reply back, until the tests end."""
    calls = 0
    while True:
        message = tests_side.receive(deadline)
        if message.get("op") == "done":
            return TestRun(
                setup_error=message.get("setup_error"), results=list(message.get("results") or [])
            )
        calls += 1
        request = {"op": "call", "id": calls, "name": message.get("name"),
                   "args": message.get("args"), "kwargs": message.get("kwargs")}  # fmt: skip
        call_deadline = min(deadline, time.monotonic() + limits.call_timeout_s)
        candidate.send(request, call_deadline)
        try:
            reply = candidate.receive(call_deadline)
        except TimeoutError:
            raise TimeoutError(f"a call to {message.get('name')}() timed out") from None
        if reply.get("id") != calls:
            raise Stopped("the candidate's process answered out of turn")
        tests_side.send({key: value for key, value in reply.items() if key != "id"}, deadline)


def _timed_out(limits: SandboxLimits, why: str) -> str:
    if "call to" in why:
        return f"Timed out: {why} after {limits.call_timeout_s:g} s (an infinite loop or too slow)."
    return f"Timed out after {limits.timeout_s:g} s (an infinite loop or far too slow)."


def _ended(sandbox: SandboxedProcess, limits: SandboxLimits, why: str) -> str:
    """Why the candidate's process ended, for the reflector."""
    try:
        sandbox.process.wait(timeout=1)  # it ended, or is about to when its pipe closed
    except subprocess.TimeoutExpired:
        return f"The program disturbed the evaluation: {why}."
    limit = _LIMIT_SIGNALS.get(-(sandbox.process.returncode or 0))
    if limit:
        return f"The program {limit}."
    tail = sandbox.stderr(limits.output_bytes).strip().splitlines()[-3:]
    reason = "\n".join(tail) or f"exit code {sandbox.process.returncode}"
    return f"The program crashed before reporting: {reason}"


class _tests_process:
    """The trusted tests' process: this interpreter, isolated from the environment."""

    def __enter__(self) -> subprocess.Popen[bytes]:
        self.folder = tempfile.TemporaryDirectory(prefix="reflexion-tests-")
        runner = Path(self.folder.name, "tests.py")
        runner.write_text(script("_trusted_runner.py"))
        self.errors = (runner.parent / ".stderr").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(runner)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            cwd=self.folder.name,
            start_new_session=True,
        )
        return self.process

    def __exit__(self, *_: object) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()
        self.errors.close()
        self.folder.cleanup()


@functools.cache
def script(name: str) -> str:
    """A side's script with the plain-data codec's source in place of its import."""
    here = Path(__file__).parent
    source = (here / name).read_text()
    start = source.index(_CODEC_IMPORT)
    end = source.index(")\n", start) + 2
    codec = (here / "_plain_data.py").read_text()
    return source[:start] + codec + "\n" + source[end:]
