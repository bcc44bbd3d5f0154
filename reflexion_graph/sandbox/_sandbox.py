"""Run untrusted Python in a separate, isolated and resource-limited process.

Layers, each applied where the machine allows it (the first run logs what is missing):

- resource limits (``resource``): CPU time, address space, output file size, processes;
- a fresh temp working directory and a scrubbed environment (no API keys);
- a process group of its own, killed whole on timeout;
- when running as root, the code runs as ``nobody`` so the process limit holds (it does not
  bind root) and private files stay unreadable;
- ``bubblewrap``: a read-only view of the system's programs and the interpreter's standard
  library only (no project, home, data or site-packages), a private /tmp, no network, its own
  PID namespace, torn down with its parent.

A :class:`Sandbox` holds what it learnt of the machine and its warm workers; the evaluators
share :func:`default_sandbox`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, Protocol

from reflexion_graph.sandbox._isolation import (
    Isolation,
    as_user,
    bwrap_prefix,
    cold_command,
    drop_to,
    enter,
    probe_isolation,
)
from reflexion_graph.sandbox._limits import SandboxLimits, numbered_rlimits
from reflexion_graph.sandbox._warm import (
    ForkServer,
    ForkServerPool,
    server_command,
    warm_enabled,
    warm_or_cold,
    warm_run,
)

_KEPT_ENV = ("PATH", "LANG", "LC_ALL", "TZ")


class Child(Protocol):
    """What the evaluators use of a sandboxed process, cold (``Popen``) or warm."""

    stdin: IO[bytes] | None
    stdout: IO[bytes] | None
    returncode: int | None

    def wait(self, timeout: float | None = None) -> int: ...


@dataclass(frozen=True)
class SandboxedProcess:
    """A running sandboxed interpreter, and where its output goes."""

    process: Child
    workdir: Path

    def stderr(self, limit: int) -> str:
        """What it wrote to stderr so far, capped at ``limit`` bytes."""
        return _read_capped(self.workdir / ".stderr", limit)


class Sandbox:
    """Where untrusted code runs, and the trusted side of a verdict beside it.

    It probes the machine once (on first use, unless ``isolation`` says what to use) and keeps
    warm workers for both sides: runs start as forks of a pre-started worker
    (``REFLEXION_GRAPH_SANDBOX=cold``: an interpreter per run), and a side whose worker cannot
    start runs cold from then on.
    """

    def __init__(self, isolation: Isolation | None = None) -> None:
        self._lock = threading.Lock()
        self._isolation = isolation
        self._pools: dict[Literal["sandbox", "tests"], ForkServerPool | None] = {}
        """Per side, its warm workers; ``None`` once they could not start."""

    @property
    def isolation(self) -> Isolation:
        """What this machine lets the sandbox do (probed on first use)."""
        with self._lock:
            if self._isolation is None:
                self._isolation = probe_isolation()
            return self._isolation

    @contextlib.contextmanager
    def python(self, script: str, limits: SandboxLimits) -> Iterator[SandboxedProcess]:
        """Start ``script`` in the sandbox, stdin and stdout pipes, stderr a capped file.

        Warm where bubblewrap isolates, else cold. On leaving, everything it started is killed
        and its files removed.
        """
        isolation = self.isolation
        pool = self._pool("sandbox") if isolation.bwrap is not None else None
        with tempfile.TemporaryDirectory(prefix="reflexion-sandbox-") as folder:
            workdir = Path(folder)
            with (workdir / ".stderr").open("wb") as err:
                warm = None
                if pool is not None:
                    request = {"limits": numbered_rlimits(limits), "env": _scrubbed_env()}
                    warm = functools.partial(
                        warm_run, pool, script, request, stdout=None, stderr=err
                    )
                cold = functools.partial(_cold_start, script, limits, isolation, workdir, err)
                give_up = functools.partial(self._give_up, "sandbox")
                with warm_or_cold(warm, cold, side="sandbox", give_up=give_up) as process:
                    yield SandboxedProcess(process, workdir)

    @contextlib.contextmanager
    def tests_python(self, script: str) -> Iterator[SandboxedProcess]:
        """Start ``script`` for the tests' side: on this interpreter, isolated (``-I``).

        The trusted side of a verdict runs on the host, as we are: a fork of a warm worker, or
        a fresh interpreter in a folder of its own; stdin and stdout are pipes, stderr goes to
        a file. On leaving, it is ended and its files removed (the same shape as
        :meth:`python`).
        """
        pool, warm = self._pool("tests"), None
        with tempfile.TemporaryDirectory(prefix="reflexion-tests-") as folder:
            workdir = Path(folder)
            with (workdir / ".stderr").open("wb") as err:
                if pool is not None:
                    request: dict[str, object] = {"limits": [], "env": None}
                    warm = functools.partial(
                        warm_run, pool, script, request, stdout=None, stderr=err
                    )
                cold = functools.partial(_cold_host_start, script, workdir, err)
                give_up = functools.partial(self._give_up, "tests")
                with warm_or_cold(warm, cold, side="tests", give_up=give_up) as process:
                    yield SandboxedProcess(process, workdir)

    def warm_worker_pids(self, side: Literal["sandbox", "tests"] = "sandbox") -> list[int]:
        """The process ids of the side's idle warm workers."""
        with self._lock:
            pool = self._pools.get(side)
        return pool.idle_pids() if pool is not None else []

    def close(self) -> None:
        """End the warm workers; later runs start new ones."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            if pool is not None:
                pool.close()

    def _pool(self, side: Literal["sandbox", "tests"]) -> ForkServerPool | None:
        """The side's warm workers; ``None`` where warm starts are off or failed."""
        if not warm_enabled():
            return None
        isolation = self.isolation
        with self._lock:
            if side not in self._pools:
                self._pools[side] = (
                    _sandbox_pool(isolation) if side == "sandbox" else _trusted_pool()
                )
            return self._pools[side]

    def _give_up(self, side: Literal["sandbox", "tests"]) -> None:
        """Start the side cold from now on (its worker could not start)."""
        with self._lock:
            pool, self._pools[side] = self._pools.get(side), None
        if pool is not None:
            pool.close()


_DEFAULT: list[Sandbox] = []
_DEFAULT_LOCK = threading.Lock()


def default_sandbox() -> Sandbox:
    """The sandbox the evaluators share unless they are given one."""
    with _DEFAULT_LOCK:
        if not _DEFAULT:
            _DEFAULT.append(Sandbox())
        return _DEFAULT[0]


def _sandbox_pool(isolation: Isolation) -> ForkServerPool:
    """Workers as ``nobody`` (where we are root), each inside a bubblewrap of its own."""
    command = [*bwrap_prefix(isolation, workdir=None), *server_command(isolation.interpreter)]
    preexec = None
    if isolation.user is not None:
        if isolation.launcher:
            command = as_user(isolation.user, command)
        else:
            preexec = functools.partial(drop_to, isolation.user)
    return ForkServerPool(lambda: ForkServer(command, "sandbox", preexec=preexec))


def _trusted_pool() -> ForkServerPool:
    """Workers for the trusted tests' processes, on the host, as we are."""
    command = server_command(sys.executable)
    return ForkServerPool(lambda: ForkServer(command, "trusted"))


@contextlib.contextmanager
def _cold_start(
    script: str,
    limits: SandboxLimits,
    isolation: Isolation,
    workdir: Path,
    stderr: IO[bytes],
) -> Iterator[subprocess.Popen[bytes]]:
    """A fresh interpreter for ``script``, in ``workdir``, with every layer this machine has.

    On leaving, it and everything it started are ended.
    """
    (workdir / "main.py").write_text(script)
    if isolation.user is not None:
        os.chown(workdir, isolation.user, isolation.user)
    env = {**_scrubbed_env(), "HOME": str(workdir), "TMPDIR": str(workdir)}
    preexec = None if isolation.launcher else functools.partial(enter, limits, isolation.user)
    process = subprocess.Popen(
        cold_command(isolation, limits, str(workdir)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        cwd=workdir,
        env=env,
        start_new_session=True,
        preexec_fn=preexec,
    )
    try:
        yield process
    finally:
        end_process(process)


@contextlib.contextmanager
def _cold_host_start(script: str, folder: Path, stderr: IO[bytes]) -> Iterator[Child]:
    """A fresh interpreter for a trusted script, ended on leaving."""
    (folder / "main.py").write_text(script)
    process = subprocess.Popen(
        [sys.executable, "-I", str(folder / "main.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        cwd=folder,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        end_process(process)


def _scrubbed_env() -> dict[str, str]:
    """Locale, time zone and PATH only: no keys or tokens reach the code."""
    env = {key: os.environ[key] for key in _KEPT_ENV if key in os.environ}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def end_process(process: subprocess.Popen[bytes]) -> None:
    """Kill a child's whole process group, reap it, and close the pipes to it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            pipe.close()


def _read_capped(path: Path, limit: int) -> str:
    with path.open("rb") as handle:
        return handle.read(limit).decode("utf-8", errors="replace")
