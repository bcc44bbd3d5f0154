"""Run untrusted Python in a separate, isolated and resource-limited process.

Layers, each applied where the machine allows it (the first call logs what is missing):

- resource limits (``resource``): CPU time, address space, output file size, processes;
- a fresh temp working directory and a scrubbed environment (no API keys);
- a process group of its own, killed whole on timeout;
- when running as root, the code runs as ``nobody`` so the process limit holds (it does not
  bind root) and private files stay unreadable;
- ``bubblewrap``: a read-only view of the system's programs and the interpreter's standard
  library only (no project, home, data or site-packages), a private /tmp, no network, its own
  PID namespace, torn down with its parent.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import resource
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from reflexion_graph.evaluators._warm import (
    ForkServer,
    ForkServerPool,
    server_command,
    warm_enabled,
    warm_or_cold,
    warm_run,
)

logger = logging.getLogger(__name__)

_KEPT_ENV = ("PATH", "LANG", "LC_ALL", "TZ")
_NOBODY = 65534
_RESOURCES = {
    "as": resource.RLIMIT_AS,
    "cpu": resource.RLIMIT_CPU,
    "fsize": resource.RLIMIT_FSIZE,
    "nproc": resource.RLIMIT_NPROC,
    "core": resource.RLIMIT_CORE,
}
_SYSTEM_PYTHONS = ("/usr/bin/python3", "/usr/local/bin/python3")
_SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/ld.so.cache",
                   "/etc/localtime")  # fmt: skip


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for one sandboxed run."""

    timeout_s: float = 10.0
    """Wall-clock limit of one evaluation; the whole process group is killed when it passes."""
    call_timeout_s: float = 5.0
    """Wall-clock limit of one call into the candidate's code, when tests call it."""
    cpu_s: int = 10
    """CPU-time limit (RLIMIT_CPU)."""
    memory_mb: int = 1024
    """Address-space limit (RLIMIT_AS)."""
    max_processes: int = 64
    """Process limit (RLIMIT_NPROC; holds for unprivileged users, hence the drop to nobody)."""
    output_bytes: int = 1 << 20
    """Largest stdout/stderr kept (RLIMIT_FSIZE on the files they go to)."""


@dataclass(frozen=True)
class SandboxResult:
    """What a sandboxed run produced."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    duration_s: float


@dataclass(frozen=True)
class Isolation:
    """What this machine lets the sandbox do (probed once per process)."""

    interpreter: str
    """The Python that runs the code (one the unprivileged user can execute)."""
    user: int | None
    """The uid the code runs as, or ``None`` to keep the caller's."""
    bwrap: str | None
    """The bubblewrap binary, or ``None`` when it is missing or cannot start here."""
    launcher: bool = False
    """Whether util-linux's ``prlimit``/``setpriv`` apply limits and the user drop by exec
    (no ``preexec_fn``, so the large parent process need not fork the slow way)."""
    missing: list[str] = field(default_factory=list)
    """What cannot be isolated here, in words."""


def run_python(script: str, stdin: str, limits: SandboxLimits) -> SandboxResult:
    """Run the Python source ``script`` in the sandbox, feeding it ``stdin``."""
    started = time.perf_counter()
    with sandboxed_python(script, limits, stdout="file") as sandbox:
        timed_out = _feed_and_wait(sandbox.process, stdin.encode(), limits.timeout_s)
        return SandboxResult(
            returncode=-signal.SIGKILL if timed_out else sandbox.process.wait(),
            stdout=_read_capped(sandbox.stdout_path, limits.output_bytes),
            stderr=sandbox.stderr(limits.output_bytes),
            timed_out=timed_out,
            duration_s=time.perf_counter() - started,
        )


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

    @property
    def stdout_path(self) -> Path:
        return self.workdir / ".stdout"

    def stderr(self, limit: int) -> str:
        """What it wrote to stderr so far, capped at ``limit`` bytes."""
        return _read_capped(self.workdir / ".stderr", limit)


@contextlib.contextmanager
def sandboxed_python(
    script: str, limits: SandboxLimits, *, stdout: str = "pipe"
) -> Iterator[SandboxedProcess]:
    """Start ``script`` in the sandbox, stdin a pipe, stdout a pipe (or a capped file).

    Warm (a fork of a pre-started sandboxed worker) where bubblewrap isolates, else cold (a
    fresh interpreter). On leaving, everything it started is killed and its files removed.
    """
    isolation = probe_isolation()
    pool = _warm_pool(isolation) if warm_enabled() else None
    with tempfile.TemporaryDirectory(prefix="reflexion-sandbox-") as folder:
        workdir = Path(folder)
        with contextlib.ExitStack() as files:
            err = files.enter_context((workdir / ".stderr").open("wb"))
            out = (
                files.enter_context((workdir / ".stdout").open("wb")) if stdout == "file" else None
            )
            warm = None
            if pool is not None:
                request = _warm_request(limits)
                warm = functools.partial(warm_run, pool, script, request, stdout=out, stderr=err)
            cold = functools.partial(_cold_start, script, limits, isolation, workdir, out, err)
            started = warm_or_cold(
                warm, cold, side="sandbox", give_up=functools.partial(_disable_warm, isolation)
            )
            yield SandboxedProcess(files.enter_context(started), workdir)


@contextlib.contextmanager
def _cold_start(
    script: str,
    limits: SandboxLimits,
    isolation: Isolation,
    workdir: Path,
    stdout: IO[bytes] | None,
    stderr: IO[bytes],
) -> Iterator[subprocess.Popen[bytes]]:
    """A fresh interpreter for ``script``, in ``workdir``, with every layer this machine has.

    On leaving, it and everything it started are ended.
    """
    (workdir / "main.py").write_text(script)
    if isolation.user is not None:
        os.chown(workdir, isolation.user, isolation.user)
    env = {**_scrubbed_env(), "HOME": str(workdir), "TMPDIR": str(workdir)}
    preexec = None if isolation.launcher else functools.partial(_enter, limits, isolation.user)
    process = subprocess.Popen(
        _command(isolation, limits, str(workdir)),
        stdin=subprocess.PIPE,
        stdout=stdout or subprocess.PIPE,
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


def _warm_request(limits: SandboxLimits) -> dict[str, object]:
    """The limits and environment of one warm run, as the fork server takes them."""
    return {"limits": _rlimits(limits), "env": _scrubbed_env()}


def _scrubbed_env() -> dict[str, str]:
    """Locale, time zone and PATH only: no keys or tokens reach the code."""
    env = {key: os.environ[key] for key in _KEPT_ENV if key in os.environ}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


_WARM_POOLS: dict[tuple[object, ...], ForkServerPool | None] = {}
"""Per isolation (its interpreter, user, bwrap and launcher): its pool, or ``None`` once
warm starts failed."""
_POOLS_LOCK = threading.Lock()


def _warm_pool(isolation: Isolation) -> ForkServerPool | None:
    """The pool of sandboxed fork servers, where bubblewrap can hold them (else ``None``)."""
    if isolation.bwrap is None:
        return None
    key = _pool_key(isolation)
    with _POOLS_LOCK:
        if key not in _WARM_POOLS:
            _WARM_POOLS[key] = _new_pool(isolation)
        return _WARM_POOLS[key]


def _new_pool(isolation: Isolation) -> ForkServerPool:
    """Workers as ``nobody`` (where we are root), each inside a bubblewrap of its own."""
    assert isolation.bwrap is not None
    command = [*_bwrap_prefix(isolation.bwrap, isolation.interpreter, workdir=None),
               *server_command(isolation.interpreter)]  # fmt: skip
    preexec = None
    if isolation.user is not None:
        if isolation.launcher:
            command = _as_user(isolation.user, command)
        else:
            preexec = functools.partial(_drop_to, isolation.user)
    return ForkServerPool(lambda: ForkServer(command, "sandbox", preexec=preexec))


def warm_worker_pids() -> list[int]:
    """The process ids of the idle warm workers (for checks that tell them from leftovers)."""
    return [pid for pool in _WARM_POOLS.values() if pool for pid in pool.idle_pids()]


def _pool_key(isolation: Isolation) -> tuple[object, ...]:
    return (isolation.interpreter, isolation.user, isolation.bwrap, isolation.launcher)


def _disable_warm(isolation: Isolation) -> None:
    with _POOLS_LOCK:
        pool = _WARM_POOLS.get(_pool_key(isolation))
        _WARM_POOLS[_pool_key(isolation)] = None
    if pool is not None:
        pool.close()


def _feed_and_wait(process: Child, data: bytes, timeout_s: float) -> bool:
    """Write ``data`` to the process's stdin, close it, and wait. Returns ``timed_out``."""
    assert process.stdin is not None
    deadline = time.monotonic() + timeout_s
    stream = process.stdin
    os.set_blocking(stream.fileno(), False)
    try:
        while data:
            if not select.select([], [stream], [], max(0, deadline - time.monotonic()))[1]:
                return True
            data = data[os.write(stream.fileno(), data) :]
    except BrokenPipeError:
        pass  # it stopped reading; its exit code says why
    stream.close()
    try:
        process.wait(timeout=max(0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return True
    return False


@functools.cache
def probe_isolation() -> Isolation:
    """Find out, once, which isolation layers work on this machine."""
    missing = []
    user = _NOBODY if os.geteuid() == 0 else None
    interpreter = _interpreter_for(user)
    if interpreter is None:
        interpreter, user = sys.executable, None
        missing.append(
            "no Python that an unprivileged user can run: code runs as root and "
            "the process limit does not hold (fork bombs are not contained)"
        )
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        missing.append(
            "bubblewrap is not installed: code can read the file system and "
            "reach the network (install the 'bubblewrap' package)"
        )
    elif not _bwrap_starts(bwrap, user):
        missing.append(
            "bubblewrap cannot create namespaces here: code can read the file "
            "system and reach the network"
        )
        bwrap = None
    for gap in missing:
        logger.warning("sandbox: %s", gap)
    launcher = all(shutil.which(tool) for tool in ("prlimit", "setpriv"))
    return Isolation(
        interpreter=interpreter, user=user, bwrap=bwrap, launcher=launcher, missing=missing
    )


def _command(isolation: Isolation, limits: SandboxLimits, workdir: str) -> list[str]:
    command = [isolation.interpreter, "-I", str(Path(workdir, "main.py"))]
    if isolation.bwrap is not None:
        command = _bwrap_prefix(isolation.bwrap, isolation.interpreter, workdir=workdir) + command
    if isolation.launcher:
        if isolation.user is not None:
            command = _as_user(isolation.user, command)
        caps = [f"--{name}={soft}:{hard}" for name, (soft, hard) in _rlimits(limits).items()]
        command = ["prlimit", *caps, "--", *command]
    return command


def _rlimits(limits: SandboxLimits) -> dict[str, tuple[int, int]]:
    """The resource limits of one run, soft and hard, by ``prlimit``'s option names."""
    memory = limits.memory_mb * 1024 * 1024
    return {
        "as": (memory, memory),
        "cpu": (limits.cpu_s, limits.cpu_s + 1),  # soft < hard, so SIGXCPU comes first
        "fsize": (limits.output_bytes, limits.output_bytes),
        "nproc": (limits.max_processes, limits.max_processes),
        "core": (0, 0),
    }


def _as_user(user: int, command: list[str]) -> list[str]:
    """``command`` run as ``user`` with no groups (util-linux's ``setpriv``)."""
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--", *command]


def _bwrap_prefix(bwrap: str, interpreter: str, *, workdir: str | None) -> list[str]:
    """The bubblewrap arguments of a cold run (``workdir`` bound in) or of a warm worker.

    A warm worker gets no folder, and a read-only root and /dev: /tmp and /dev/shm are then
    all its children can write, and it wipes both after each.
    """
    shown, hidden = _file_view(interpreter)
    folder = ["--bind", workdir, workdir, "--chdir", workdir] if workdir else []
    read_only = (
        [] if workdir else ["--tmpfs", "/dev/shm", "--remount-ro", "/dev", "--remount-ro", "/"]
    )
    return [
        bwrap,
        *(arg for path in shown for arg in ("--ro-bind-try", path, path)),
        *(arg for path in hidden for arg in ("--tmpfs", path)),
        "--tmpfs", "/tmp",
        *folder,
        "--proc", "/proc",
        "--dev", "/dev",
        *read_only,
        "--unshare-all",
        "--die-with-parent",
        "--",
    ]  # fmt: skip


@functools.cache
def _file_view(interpreter: str) -> tuple[list[str], list[str]]:
    """The folders the code may read, and the site-packages folders hidden inside them.

    The system's programs and libraries and the interpreter's standard library; not the
    project, the user's home, the benchmark data or any installed package.
    """
    prefix = str(Path(interpreter).resolve().parents[1])  # /usr, or a pyenv or conda folder
    shown = [*_SYSTEM_FOLDERS, *([] if prefix.startswith("/usr") else [prefix])]
    patterns = (
        "lib/python3*/site-packages",
        "lib/python3*/dist-packages",
        "lib/python3/dist-packages",
    )
    hidden = sorted(
        {
            str(found)
            for root in {"/usr", "/usr/local", prefix}
            for pattern in patterns
            for found in Path(root).glob(pattern)
            if found.is_dir()
        }
    )
    return shown, hidden


def _enter(limits: SandboxLimits, user: int | None) -> None:
    """In the child, before exec: set the limits, then give up root (without util-linux)."""
    for name, values in _rlimits(limits).items():
        resource.setrlimit(_RESOURCES[name], values)
    if user is not None:
        _drop_to(user)


def _drop_to(user: int) -> None:
    """In the child, before exec: give up root for ``user``."""
    os.setgroups([])
    os.setgid(user)
    os.setuid(user)


def end_process(process: subprocess.Popen[bytes]) -> None:
    """Kill a child's whole process group, reap it, and close the pipes to it."""
    _kill_group(process)
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            pipe.close()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _read_capped(path: Path, limit: int) -> str:
    with path.open("rb") as handle:
        return handle.read(limit).decode("utf-8", errors="replace")


def _interpreter_for(user: int | None) -> str | None:
    """A Python the sandbox user can execute: ours if everyone can reach it, else the system's."""
    candidates: list[str] = [sys.executable, *([] if user is None else _SYSTEM_PYTHONS)]
    for candidate in candidates:
        if user is None or _others_can_execute(Path(candidate)):
            return candidate
    return None


def _others_can_execute(path: Path) -> bool:
    """Whether a user with no special rights can run ``path`` (every folder on the way too)."""
    try:
        resolved = path.resolve(strict=True)
    except OSError:
        return False
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in (resolved, *resolved.parents))


def _bwrap_starts(bwrap: str, user: int | None) -> bool:
    try:
        done = subprocess.run(
            [bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
            capture_output=True,
            timeout=10,
            preexec_fn=functools.partial(_enter, SandboxLimits(), user),
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0
