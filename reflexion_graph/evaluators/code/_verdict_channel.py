"""The verdict channel: trusted tests in one process, the untrusted candidate in another.

This process sits between them.

The candidate's process (the sandbox, ``_candidate_server``) holds the answer's code and never
sees a test or an expected value. The tests' process (``_trusted_runner``) runs the task's
tests, calling the answer through stubs. This process relays each call and its reply, one at
a time, with a time limit per call and per evaluation. Every reply is plain data, so nothing
the candidate does can reach the tests' comparisons but the values it returns.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from reflexion_graph.evaluators.code.stdlib_scripts import _plain_data as plain
from reflexion_graph.sandbox import Sandbox, SandboxedProcess, SandboxLimits, child_script

_CODEC = "reflexion_graph.evaluators.code.stdlib_scripts._plain_data"
_CANDIDATE = "reflexion_graph.evaluators.code.stdlib_scripts._candidate_server"
_TESTS = "reflexion_graph.evaluators.code.stdlib_scripts._trusted_runner"
_STDERR_BYTES = 64_000
"""How much of a side's stderr is read for the reason it stopped."""
_LIMIT_SIGNALS: dict[int, str] = {
    signal.SIGXCPU: "used up its CPU-time limit (an infinite loop or far too slow)",
    signal.SIGKILL: "was killed by a resource limit (CPU time or memory)",
    signal.SIGXFSZ: "wrote more output than allowed",
}


@dataclass(frozen=True)
class TestOutcome:
    """One test's result: passed, failed, or needing the answer's objects rather than values.

    ``detail`` says how it failed, or which objects it needs.
    """

    status: Literal["passed", "failed", "needs_objects"]
    detail: str = ""


PASSED = TestOutcome("passed")


def outcome_of(reported: object) -> TestOutcome:
    """A test's result as a side reports it: ``null``, a failure, or ``{"needs_objects": why}``."""
    if reported is None:
        return PASSED
    if isinstance(reported, dict):
        return TestOutcome("needs_objects", str(reported.get("needs_objects", "")))
    return TestOutcome("failed", str(reported))


@dataclass
class TestRun:
    """What the two processes made of one answer."""

    stopped: str | None = None
    """Why the evaluation stopped before its tests ran to the end (crash, time-out)."""
    setup_error: str | None = None
    results: list[TestOutcome] = field(default_factory=list)
    checks: list[dict[str, str] | None] = field(default_factory=list)
    """Per test, the trusted side's record of the check it failed (``None``: none)."""


class Stopped(Exception):
    """The evaluation cannot go on; the message says why, for the reflector."""

    def __init__(self, why: str, *, by_tests: bool = False) -> None:
        super().__init__(why)
        self.by_tests = by_tests
        """Whether the tests' process, not the candidate's, stopped it."""


class CallTimedOut(TimeoutError):
    """One call into the candidate's code ran past its limit."""


@dataclass
class _Pipe:
    """Line-at-a-time reads and writes on a child's pipes, each bounded by a deadline."""

    reads: IO[bytes]
    writes: IO[bytes]
    name: str
    is_tests: bool = False
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
                raise Stopped(f"{self.name} ended", by_tests=self.is_tests) from None

    def receive(self, deadline: float) -> dict[str, Any]:
        while b"\n" not in self.buffer:
            _wait(self.reads, deadline, "r", f"{self.name} timed out")
            chunk = os.read(self.reads.fileno(), 1 << 16)
            if not chunk:
                raise Stopped(f"{self.name} ended", by_tests=self.is_tests)
            self.buffer += chunk
            if len(self.buffer) > plain.MAX_MESSAGE_CHARS:
                raise Stopped(
                    f"{self.name} sent a message over {plain.MAX_MESSAGE_CHARS} bytes",
                    by_tests=self.is_tests,
                )
        line, _, self.buffer = self.buffer.partition(b"\n")
        try:
            return plain.loads(line.decode("utf-8", errors="replace"))
        except ValueError as error:
            raise Stopped(
                f"{self.name} sent a malformed message ({error})", by_tests=self.is_tests
            ) from None


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
    sandbox: Sandbox,
) -> TestRun:
    """Load ``code`` in the sandbox, run ``tests`` in the trusted process, relay the calls."""
    deadline = time.monotonic() + limits.timeout_s
    with (
        sandbox.python(child_script(_CANDIDATE, inline=(_CODEC,)), limits) as candidate_side,
        sandbox.tests_python(child_script(_TESTS, inline=(_CODEC,))) as runner,
    ):
        assert runner.process.stdin and runner.process.stdout
        candidate = _candidate_pipe(candidate_side)
        tests_side = _Pipe(runner.process.stdout, runner.process.stdin, "the tests' process", True)
        try:
            crashed = _load(candidate, preamble, code, entry_point, deadline)
            if crashed:
                return TestRun(stopped=crashed)
            tests_side.send({"preamble": preamble, "setup": setup, "tests": tests,
                             "stubs": stubs}, deadline)  # fmt: skip
            return _relay(candidate, tests_side, deadline, limits)
        except CallTimedOut as late:
            return TestRun(
                stopped=f"Timed out: {late} after {limits.call_timeout_s:g} s "
                "(an infinite loop or far too slow)."
            )
        except TimeoutError:
            why = f"Timed out after {limits.timeout_s:g} s (an infinite loop or far too slow)."
            return TestRun(stopped=why)
        except Stopped as stop:
            if stop.by_tests:
                return TestRun(stopped=f"The tests could not run: {stop}. {_tail(runner)}")
            return TestRun(stopped=_ended(candidate_side, limits, str(stop)))


def run_in_candidate(
    *,
    preamble: str,
    code: str,
    statements: list[str],
    limits: SandboxLimits,
    sandbox: Sandbox,
) -> list[TestOutcome]:
    """Run test statements inside the candidate's own process (they need its objects)."""
    deadline = time.monotonic() + limits.timeout_s
    with sandbox.python(child_script(_CANDIDATE, inline=(_CODEC,)), limits) as candidate_side:
        candidate = _candidate_pipe(candidate_side)
        try:
            crashed = _load(candidate, preamble, code, None, deadline)
            if crashed:
                return [TestOutcome("failed", crashed)] * len(statements)
            outcomes: list[TestOutcome] = []
            for statement in statements:
                candidate.send({"op": "exec", "source": statement}, deadline)
                reply = candidate.receive(deadline)
                ok = reply.get("ok") is True
                outcomes.append(PASSED if ok else TestOutcome("failed", str(reply.get("failure"))))
            return outcomes
        except (TimeoutError, Stopped) as stop:
            why = f"error in the tests run inside the candidate's process: {stop}"
            return [TestOutcome("failed", why)] * len(statements)


def _candidate_pipe(sandbox: SandboxedProcess) -> _Pipe:
    assert sandbox.process.stdin and sandbox.process.stdout
    return _Pipe(sandbox.process.stdout, sandbox.process.stdin, "the candidate's process")


def _load(
    candidate: _Pipe, preamble: str, code: str, entry_point: str | None, deadline: float
) -> str | None:
    """Run the preamble and the answer's code in its process; why they do not run, or None."""
    candidate.send({"op": "load", "preamble": preamble, "code": code,
                    "entry_point": entry_point}, deadline)  # fmt: skip
    loaded = candidate.receive(deadline)
    return str(loaded["crashed"]) if "crashed" in loaded else None


def _relay(candidate: _Pipe, tests_side: _Pipe, deadline: float, limits: SandboxLimits) -> TestRun:
    """Pass each call of the tests to the candidate and its reply back, until the tests end."""
    calls = 0
    while True:
        message = tests_side.receive(deadline)
        if message.get("op") == "done":
            return TestRun(
                setup_error=message.get("setup_error"),
                results=[outcome_of(result) for result in message.get("results") or []],
                checks=list(message.get("checks") or []),
            )
        calls += 1
        request = {"op": "call", "id": calls, "name": message.get("name"),
                   "args": message.get("args"), "kwargs": message.get("kwargs")}  # fmt: skip
        call_deadline = min(deadline, time.monotonic() + limits.call_timeout_s)
        candidate.send(request, call_deadline)
        try:
            reply = candidate.receive(call_deadline)
        except TimeoutError:
            if call_deadline == deadline:
                raise  # the evaluation's own limit came first
            raise CallTimedOut(f"a call to {message.get('name')}() timed out") from None
        if reply.get("id") != calls:
            raise Stopped("the candidate's process answered out of turn")
        tests_side.send({key: value for key, value in reply.items() if key != "id"}, deadline)


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


def _tail(process: SandboxedProcess) -> str:
    """The last lines a process wrote to stderr."""
    return "\n".join(process.stderr(_STDERR_BYTES).strip().splitlines()[-3:])
