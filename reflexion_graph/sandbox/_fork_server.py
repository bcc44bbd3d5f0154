"""The warm sandbox's worker: started once, it forks a fresh child for every run it is sent.

Standard library only; run as ``python -I -c <this source> <control fd> <mode> <home>``.
``mode`` is ``sandbox`` (inside bubblewrap, as the unprivileged user, in a PID namespace of its
own) or ``trusted`` (the tests' side, on the host, in ``home``: the folder made for it, which it
removes when the evaluator is gone). Over the control socket (SOCK_SEQPACKET), one JSON
message each:

- in: ``{"op": "run", "limits": [[resource, soft, hard], ...], "env": {...} | null}`` with
  four file descriptors
  (stdin, stdout, stderr, the script); out: ``{"started": pid}``, later ``{"ended": code}``
  (an exit code, or minus the signal that ended it, as ``subprocess`` reports).
- in, while a child runs: ``{"op": "end"}``: kill it now.

A child starts from this process's pristine memory (a fork), in a session of its own, with its
own limits, folder and environment. When it ends, every process it left is killed and, in the
sandbox, everything it could write (``/tmp``, ``/dev/shm``, SysV IPC) is wiped, so a run can
neither see nor leave anything for the next. Where that cannot be made sure, this process exits
and the evaluator starts a new one.
"""

import ast  # noqa: F401  (imported once here, so that children start warm)
import builtins
import contextlib
import datetime  # noqa: F401
import decimal  # noqa: F401
import fractions  # noqa: F401
import io  # noqa: F401
import json
import linecache  # noqa: F401
import math  # noqa: F401
import os
import resource
import select
import shutil
import signal
import socket
import stat
import sys
import tempfile
import time
import traceback
import types
import typing  # noqa: F401
from typing import Any

_WRITABLE = ("/tmp", "/dev/shm")  # everything a sandboxed child can write to
_PR_SET_DUMPABLE = 4


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    sandboxed = sys.argv[2] == "sandbox"
    if sandboxed:
        _not_traceable()
    home = "/tmp" if sandboxed else sys.argv[3]  # the trusted worker's folder, made for it
    try:
        _serve(control, home, sandboxed)
    finally:  # the evaluator is gone, maybe killed before it could remove the folder it made
        if not sandboxed:
            shutil.rmtree(home, ignore_errors=True)


def _serve(control: socket.socket, home: str, sandboxed: bool) -> None:
    """Fork one child per run request until the evaluator closes the control socket."""
    _send(control, {"ready": True})
    while True:
        message, fds, _, _ = socket.recv_fds(control, 1 << 16, 4)
        if not message:
            return  # the evaluator is gone
        request = json.loads(message)
        if request.get("op") != "run":
            continue  # an "end" for a run that had ended already: its "ended" is on its way
        pid = os.fork()
        if pid == 0:
            _child(request, fds, home)
        for fd in fds:
            os.close(fd)
        _send(control, {"started": pid})
        code = _wait(control, pid)
        if sandboxed:
            _sweep_namespace()
            _wipe_writable()
        else:
            _wipe_children_of(home)
        _send(control, {"ended": code})


def _wait(control: socket.socket, pid: int) -> int:
    """Wait for the child to end, killing it when the evaluator asks; its exit code."""
    pidfd = os.pidfd_open(pid)
    try:
        while True:
            ready, _, _ = select.select([control.fileno(), pidfd], [], [])
            if pidfd in ready:  # ended; its pid stays reserved until reaped, so kill the rest
                _kill_group(pid)
                return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
            if not control.recv(1 << 16):  # the evaluator is gone: end it, then this process
                _kill_group(pid)
                sys.exit(0)
            _kill_group(pid)  # an "end" request
    finally:
        os.close(pidfd)


def _child(request: dict[str, Any], fds: list[int], home: str) -> None:
    """In the fresh child: take the run's streams, limits, folder and environment; run it."""
    status = 1
    try:
        os.setsid()
        *streams, script_fd = fds
        for target, fd in enumerate(streams):
            os.dup2(fd, target)
        with open(script_fd, "rb") as script:
            source = script.read().decode()
        os.closerange(3, 1 << 16)  # the control socket and everything else of this process
        for number, soft, hard in request["limits"]:
            resource.setrlimit(number, (soft, hard))
        folder = tempfile.mkdtemp(prefix="run-", dir=home)
        os.chdir(folder)
        if request.get("env") is not None:
            os.environ.clear()
            os.environ.update(request["env"], HOME=folder, TMPDIR=folder)
        status = _run_as_main(source, os.path.join(folder, "main.py"))
    except BaseException:
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        os._exit(status)


def _run_as_main(source: str, path: str) -> int:
    """Run ``source`` as ``__main__`` on fresh standard streams, as ``python path`` would."""
    with open(path, "w") as copy:
        copy.write(source)
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False, errors="backslashreplace", buffering=1)
    sys.argv = [path]
    module = types.ModuleType("__main__")
    module.__file__ = path
    module.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = module
    try:
        exec(compile(source, path, "exec"), module.__dict__)
        status = 0
    except SystemExit as exit_:
        status = _exit_status(exit_.code)
    except BaseException:
        traceback.print_exc()
        status = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    return status


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    sys.stderr.write(f"{code}\n")  # as the interpreter reports sys.exit("message")
    return 1


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def _sweep_namespace() -> None:
    """Kill every process of this PID namespace but its init and this one; wait till gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(-1, signal.SIGKILL)
    deadline = time.monotonic() + 2
    while set(_pids()) - {1, os.getpid()}:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(-1, os.WNOHANG)
        if time.monotonic() > deadline:
            sys.exit("processes outlived the sweep")
        time.sleep(0.001)


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _wipe_writable() -> None:
    """Empty every folder a child could write to, and drop its SysV IPC objects."""
    for folder in _WRITABLE:
        _wipe_children_of(folder)
        if os.listdir(folder):
            sys.exit(f"{folder} could not be emptied")
    _remove_ipc_objects()


def _wipe_children_of(folder: str) -> None:
    for root, dirs, _ in os.walk(folder):
        for name in dirs:  # make every real folder ours to list and empty
            path = os.path.join(root, name)
            if stat.S_ISDIR(os.lstat(path).st_mode):
                with contextlib.suppress(OSError):
                    os.chmod(path, 0o700)
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if stat.S_ISDIR(os.lstat(path).st_mode):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)


def _remove_ipc_objects() -> None:
    """SysV shared memory, message queues and semaphores outlive their processes: remove them."""
    found = {kind: _ipc_ids(kind) for kind in ("shm", "msg", "sem")}
    if not any(found.values()):
        return
    import ctypes  # only when a child made some

    libc = ctypes.CDLL(None, use_errno=True)
    for ipc_id in found["shm"]:
        libc.shmctl(ipc_id, 0, None)  # IPC_RMID
    for ipc_id in found["msg"]:
        libc.msgctl(ipc_id, 0, None)
    for ipc_id in found["sem"]:
        libc.semctl(ipc_id, 0, 0)
    if any(_ipc_ids(kind) for kind in found):
        sys.exit("SysV IPC objects could not be removed")


def _ipc_ids(kind: str) -> list[int]:
    with open(f"/proc/sysvipc/{kind}") as table:
        return [int(line.split()[1]) for line in table.readlines()[1:]]


def _not_traceable() -> None:
    """Children (same user) may not ptrace this process or open its descriptors."""
    import ctypes

    ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def _send(control: socket.socket, message: dict[str, Any]) -> None:
    control.send(json.dumps(message).encode())


if __name__ == "__main__":
    main()
