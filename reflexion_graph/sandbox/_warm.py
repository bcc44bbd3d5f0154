"""Warm starts: pre-started fork servers (``_fork_server``) that begin each run as a fork.

Starting a Python interpreter is most of what an evaluation costs. A fork server pays it once;
every run is then a fresh fork of its pristine state, in a session of its own with its own
limits, folder and environment, and the server wipes what the run could leave before the next.
Each server serves one run at a time; a pool keeps the idle ones and starts another when all
are busy or one has died. Set ``REFLEXION_GRAPH_SANDBOX=cold`` to start an interpreter per run.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import IO, Any, Literal

from reflexion_graph.sandbox._scripts import child_script

logger = logging.getLogger(__name__)

_START_TIMEOUT_S = 10.0
_END_TIMEOUT_S = 5.0


class WarmStartFailed(RuntimeError):
    """A fork server could not be started here."""


def warm_enabled() -> bool:
    """Whether runs start warm (the default), or cold as ``REFLEXION_GRAPH_SANDBOX=cold`` asks."""
    return os.environ.get("REFLEXION_GRAPH_SANDBOX", "warm") != "cold"


class ForkServer:
    """One fork server process, and the control socket to it."""

    def __init__(
        self,
        command: list[str],
        mode: Literal["sandbox", "trusted"],
        *,
        preexec: Callable[[], None] | None = None,
    ) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._owner = os.getpid()
        """The process that started it (a forked child must not kill or clean it up)."""
        self._errors = tempfile.TemporaryFile()
        self._home = tempfile.mkdtemp(prefix="reflexion-worker-") if mode == "trusted" else None
        """The trusted worker's folder, where its runs' folders go (the sandbox uses its /tmp);
        the worker removes it when its owner is gone (killed, say)."""
        try:
            self.process = subprocess.Popen(
                [*command, str(theirs.fileno()), mode, self._home or ""],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._errors,
                pass_fds=[theirs.fileno()],
                start_new_session=True,
                preexec_fn=preexec,
                cwd=self._home,
            )
        except OSError as error:
            ours.close()
            self._errors.close()
            self._remove_home()
            raise WarmStartFailed(str(error)) from None
        finally:
            theirs.close()
        self._control = ours
        try:
            self.receive(_START_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            why = self.errors()
            self.kill()
            raise WarmStartFailed(f"the fork server did not start: {why}") from None

    def alive(self) -> bool:
        return self.process.poll() is None

    def run(
        self, script: IO[bytes], streams: tuple[int, int, int], request: dict[str, Any]
    ) -> WarmProcess:
        """Start one run: ``script`` on the given stdin, stdout and stderr descriptors."""
        fds = [*streams, script.fileno()]
        socket.send_fds(self._control, [json.dumps({"op": "run", **request}).encode()], fds)
        started = self.receive(_START_TIMEOUT_S)
        if "started" not in started:
            raise OSError(f"the fork server refused the run: {started}")
        return WarmProcess(self)

    def send(self, message: dict[str, Any]) -> None:
        self._control.send(json.dumps(message).encode())

    def receive(self, timeout: float | None) -> dict[str, Any]:
        """The server's next message; ``subprocess.TimeoutExpired`` when none comes in time."""
        ready, _, _ = select.select([self._control], [], [], timeout)
        if not ready:
            raise subprocess.TimeoutExpired("fork server", timeout or 0)
        message = self._control.recv(1 << 16)
        if not message:
            raise OSError(f"the fork server ended: {self.errors()}")
        return dict(json.loads(message))

    def errors(self) -> str:
        """The last lines the server wrote to stderr."""
        self._errors.seek(0)
        return " ".join(self._errors.read().decode(errors="replace").strip().splitlines()[-3:])

    def kill(self) -> None:
        """Kill the server and everything it started.

        Once, and only in the process that started it: later calls, and calls in a forked
        child, do nothing.
        """
        if self._errors.closed or os.getpid() != self._owner:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._control.close()
        self._errors.close()
        self._remove_home()

    def _remove_home(self) -> None:
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)


class WarmProcess:
    """One run in a fork server, with the parts of ``subprocess.Popen`` the evaluators use."""

    def __init__(self, server: ForkServer) -> None:
        self.server = server
        self.returncode: int | None = None
        self.stdin: IO[bytes] | None = None
        self.stdout: IO[bytes] | None = None

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the run (and what it left) to end; its exit code, or minus its signal."""
        if self.returncode is None:
            try:
                self.returncode = int(self.server.receive(timeout)["ended"])
            except OSError:  # its worker died, and the sandbox with everything in it
                self.returncode = -signal.SIGKILL
        return self.returncode

    def end(self) -> None:
        """Kill the run now, wait till the server has cleaned up, and close the pipes to it."""
        try:
            if self.returncode is None:
                self.server.send({"op": "end"})
                self.wait(_END_TIMEOUT_S)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            self.server.kill()  # it did not answer: it is no longer to be trusted
            self.returncode = -9
        for pipe in (self.stdin, self.stdout):
            if pipe is not None:
                pipe.close()


class ForkServerPool:
    """Idle fork servers of one kind; each serves one run at a time."""

    def __init__(self, start: Callable[[], ForkServer]) -> None:
        self._start = start
        self._idle: list[ForkServer] = []
        self._lock = threading.Lock()
        atexit.register(self.close)
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        """In a forked child of this process: the servers are the parent's; start our own."""
        self._idle, self._lock = [], threading.Lock()

    @contextlib.contextmanager
    def server(self) -> Iterator[ForkServer]:
        """An idle server (started if none is); back in the pool afterwards if still alive."""
        with self._lock:
            server = self._idle.pop() if self._idle else None
        while server is not None and not server.alive():
            logger.warning("sandbox: a warm worker ended (%s); starting another", server.errors())
            server.kill()
            with self._lock:
                server = self._idle.pop() if self._idle else None
        server = server or self._start()
        try:
            yield server
        finally:
            if server.alive():
                with self._lock:
                    self._idle.append(server)
            else:
                server.kill()

    def idle_pids(self) -> list[int]:
        """The process ids of the idle servers."""
        with self._lock:
            return [server.process.pid for server in self._idle]

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for server in idle:
            server.kill()


@contextlib.contextmanager
def warm_run(
    pool: ForkServerPool,
    script: str,
    request: dict[str, Any],
    *,
    stdout: IO[bytes] | None,
    stderr: IO[bytes],
) -> Iterator[WarmProcess]:
    """Run ``script`` in a server of ``pool``: stdin a pipe, stdout a pipe unless a file is given.

    A server that fails to take the run (it died just before) is replaced, once. On leaving,
    the run and everything it started are killed and what it wrote is wiped.
    """
    with tempfile.TemporaryFile() as source:
        source.write(script.encode())
        for last_try in (False, True):
            with pool.server() as server:
                source.seek(0)
                try:
                    process = _start(server, source, request, stdout, stderr)
                except (OSError, subprocess.TimeoutExpired):
                    server.kill()
                    if last_try:
                        raise
                    continue
                try:
                    yield process
                finally:
                    process.end()
                return


def _start(
    server: ForkServer,
    source: IO[bytes],
    request: dict[str, Any],
    stdout: IO[bytes] | None,
    stderr: IO[bytes],
) -> WarmProcess:
    """One run in ``server``, with a new pipe for stdin (and for stdout unless given)."""
    stdin_read, stdin_write = os.pipe()
    stdout_read, stdout_write = os.pipe() if stdout is None else (-1, stdout.fileno())
    try:
        process = server.run(source, (stdin_read, stdout_write, stderr.fileno()), request)
    except BaseException:
        for fd in (stdin_write, stdout_read):
            if fd >= 0:
                os.close(fd)
        raise
    finally:
        os.close(stdin_read)
        if stdout is None:
            os.close(stdout_write)
    process.stdin = open(stdin_write, "wb", buffering=0)
    process.stdout = None if stdout is not None else open(stdout_read, "rb", buffering=0)
    return process


def server_command(interpreter: str) -> list[str]:
    """The interpreter arguments that start a fork server (before its control fd and mode)."""
    return [interpreter, "-I", "-c", child_script("reflexion_graph.sandbox._fork_server")]


@contextlib.contextmanager
def warm_or_cold(
    warm: Callable[[], contextlib.AbstractContextManager[Any]] | None,
    cold: Callable[[], contextlib.AbstractContextManager[Any]],
    *,
    side: str,
    give_up: Callable[[], None],
) -> Iterator[Any]:
    """The one place that picks a warm start or a cold one, for either side of a verdict.

    ``warm`` (``None``: not here, or turned off) is tried first; when its fork server cannot
    start, ``give_up`` turns that side's warm starts off (logged once) and this run starts
    cold. Only starting falls back: a failure after the start is the run's own.
    """
    with contextlib.ExitStack() as stack:
        process = None
        if warm is not None:
            try:
                process = stack.enter_context(warm())
            except WarmStartFailed as failure:
                logger.warning(
                    "%s: no warm worker (%s); starting an interpreter per run", side, failure
                )
                give_up()
        yield process if process is not None else stack.enter_context(cold())
