"""What this machine lets the sandbox do, and the commands that apply it.

Found out once per ``Sandbox``: the unprivileged user, bubblewrap's view of the file system,
and whether util-linux's launcher applies the limits.
"""

from __future__ import annotations

import functools
import logging
import os
import resource
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from reflexion_graph.sandbox._limits import RESOURCES, SandboxLimits, rlimits

logger = logging.getLogger(__name__)

_NOBODY = 65534
_SYSTEM_PYTHONS = ("/usr/bin/python3", "/usr/local/bin/python3")
_SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/ld.so.cache",
                   "/etc/localtime")  # fmt: skip
_SITE_PACKAGES = ("lib/python3*/site-packages", "lib/python3*/dist-packages",
                  "lib/python3/dist-packages")  # fmt: skip


@dataclass(frozen=True)
class Isolation:
    """What this machine lets the sandbox do."""

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
    shown: tuple[str, ...] = ()
    """The folders the code may read: the system's programs and the standard library."""
    hidden: tuple[str, ...] = ()
    """The site-packages folders inside them, hidden."""


def probe_isolation() -> Isolation:
    """Find out which isolation layers work on this machine (each gap is logged)."""
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
    shown, hidden = _file_view(interpreter)
    return Isolation(
        interpreter, user, bwrap, launcher=launcher, missing=missing, shown=shown, hidden=hidden
    )


def cold_command(isolation: Isolation, limits: SandboxLimits, workdir: str) -> list[str]:
    """The command of a cold run of ``workdir/main.py``, with every layer this machine has."""
    command = [isolation.interpreter, "-I", str(Path(workdir, "main.py"))]
    if isolation.bwrap is not None:
        command = bwrap_prefix(isolation, workdir=workdir) + command
    if isolation.launcher:
        if isolation.user is not None:
            command = as_user(isolation.user, command)
        caps = [f"--{name}={soft}:{hard}" for name, (soft, hard) in rlimits(limits).items()]
        command = ["prlimit", *caps, "--", *command]
    return command


def as_user(user: int, command: list[str]) -> list[str]:
    """``command`` run as ``user`` with no groups (util-linux's ``setpriv``)."""
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--", *command]


def bwrap_prefix(isolation: Isolation, *, workdir: str | None) -> list[str]:
    """The bubblewrap arguments of a cold run (``workdir`` bound in) or of a warm worker.

    A warm worker gets no folder, and a read-only root and /dev: /tmp and /dev/shm are then
    all its children can write, and it wipes both after each.
    """
    assert isolation.bwrap is not None
    folder = ["--bind", workdir, workdir, "--chdir", workdir] if workdir else []
    read_only = (
        [] if workdir else ["--tmpfs", "/dev/shm", "--remount-ro", "/dev", "--remount-ro", "/"]
    )
    return [
        isolation.bwrap,
        *(arg for path in isolation.shown for arg in ("--ro-bind-try", path, path)),
        *(arg for path in isolation.hidden for arg in ("--tmpfs", path)),
        "--tmpfs", "/tmp",
        *folder,
        "--proc", "/proc",
        "--dev", "/dev",
        *read_only,
        "--unshare-all",
        "--die-with-parent",
        "--",
    ]  # fmt: skip


def enter(limits: SandboxLimits, user: int | None) -> None:
    """In the child, before exec: set the limits, then give up root (without util-linux)."""
    for name, values in rlimits(limits).items():
        resource.setrlimit(RESOURCES[name], values)
    if user is not None:
        drop_to(user)


def drop_to(user: int) -> None:
    """In the child, before exec: give up root for ``user``."""
    os.setgroups([])
    os.setgid(user)
    os.setuid(user)


def _file_view(interpreter: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The folders the code may read, and the site-packages folders hidden inside them.

    The system's programs and libraries and the interpreter's standard library; not the
    project, the user's home, the benchmark data or any installed package.
    """
    prefix = str(Path(interpreter).resolve().parents[1])  # /usr, or a pyenv or conda folder
    shown = (*_SYSTEM_FOLDERS, *([] if prefix.startswith("/usr") else [prefix]))
    hidden = sorted(
        {
            str(found)
            for root in {"/usr", "/usr/local", prefix}
            for pattern in _SITE_PACKAGES
            for found in Path(root).glob(pattern)
            if found.is_dir()
        }
    )
    return shown, tuple(hidden)


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
            preexec_fn=functools.partial(enter, SandboxLimits(), user),
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0
