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
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

_KEPT_ENV = ("PATH", "LANG", "LC_ALL", "TZ")
_NOBODY = 65534
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
        timed_out = _communicate(sandbox.process, stdin, limits.timeout_s)
        return SandboxResult(
            returncode=sandbox.process.returncode,
            stdout=_read_capped(sandbox.stdout_path, limits.output_bytes),
            stderr=sandbox.stderr(limits.output_bytes),
            timed_out=timed_out,
            duration_s=time.perf_counter() - started,
        )


@dataclass(frozen=True)
class SandboxedProcess:
    """A running sandboxed interpreter, and where its output goes."""

    process: subprocess.Popen[bytes]
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

    On leaving, its whole process group is killed and its private folder removed.
    """
    isolation = probe_isolation()
    with tempfile.TemporaryDirectory(prefix="reflexion-sandbox-") as folder:
        workdir = Path(folder)
        (workdir / "main.py").write_text(script)
        if isolation.user is not None:
            os.chown(workdir, isolation.user, isolation.user)
        env = {key: os.environ[key] for key in _KEPT_ENV if key in os.environ}
        env.update(HOME=folder, TMPDIR=folder, PYTHONDONTWRITEBYTECODE="1")
        preexec = None if isolation.launcher else functools.partial(_enter, limits, isolation.user)
        with contextlib.ExitStack() as files:
            err = files.enter_context((workdir / ".stderr").open("wb"))
            out = (
                files.enter_context((workdir / ".stdout").open("wb"))
                if stdout == "file"
                else subprocess.PIPE
            )
            process = subprocess.Popen(
                _command(isolation, limits, folder),
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=err,
                cwd=folder,
                env=env,
                start_new_session=True,
                preexec_fn=preexec,
            )
            try:
                yield SandboxedProcess(process, workdir)
            finally:
                end_process(process)


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
        command = _bwrap_prefix(isolation.bwrap, workdir, isolation.interpreter) + command
    if isolation.launcher:
        if isolation.user is not None:
            user = str(isolation.user)
            command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups",
                       "--", *command]  # fmt: skip
        command = [
            "prlimit",
            f"--as={limits.memory_mb * 1024 * 1024}",
            f"--cpu={limits.cpu_s}:{limits.cpu_s + 1}",  # soft:hard, so SIGXCPU comes first
            f"--fsize={limits.output_bytes}",
            f"--nproc={limits.max_processes}",
            "--core=0",
            "--",
            *command,
        ]
    return command


def _bwrap_prefix(bwrap: str, workdir: str, interpreter: str) -> list[str]:
    shown, hidden = _file_view(interpreter)
    return [
        bwrap,
        *(arg for path in shown for arg in ("--ro-bind-try", path, path)),
        *(arg for path in hidden for arg in ("--tmpfs", path)),
        "--tmpfs", "/tmp",
        "--bind", workdir, workdir,
        "--proc", "/proc",
        "--dev", "/dev",
        "--unshare-all",
        "--die-with-parent",
        "--chdir", workdir,
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
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))  # SIGXCPU first
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.output_bytes, limits.output_bytes))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if user is not None:
        os.setgroups([])
        os.setgid(user)
        os.setuid(user)


def _communicate(process: subprocess.Popen[bytes], stdin: str, timeout_s: float) -> bool:
    """Feed stdin and wait; on timeout kill the whole process group. Returns ``timed_out``."""
    try:
        process.communicate(stdin.encode(), timeout=timeout_s)
        return False
    except subprocess.TimeoutExpired:
        return True
    finally:
        _kill_group(process)  # on timeout, and any leftovers the code forked


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
