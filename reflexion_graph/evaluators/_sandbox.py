"""Run a Python script in a separate, resource-limited process group."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

_OUTPUT_LIMIT_BYTES = 1 << 20
_KEPT_ENV = ("PATH", "LANG", "LC_ALL", "TZ")


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for one sandboxed run."""

    timeout_s: float = 10.0
    """Wall-clock limit; the whole process group is killed when it passes."""
    cpu_s: int = 10
    """CPU-time limit (RLIMIT_CPU)."""
    memory_mb: int = 1024
    """Address-space limit (RLIMIT_AS)."""


@dataclass(frozen=True)
class SandboxResult:
    """What a sandboxed run produced."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    duration_s: float


def run_python(script: Path, stdin: str, limits: SandboxLimits) -> SandboxResult:
    """Run ``script`` with a fresh temp cwd, a scrubbed environment and resource limits."""
    with tempfile.TemporaryDirectory(prefix="reflexion-sandbox-") as workdir:
        out_path, err_path = Path(workdir, ".stdout"), Path(workdir, ".stderr")
        env = {key: os.environ[key] for key in _KEPT_ENV if key in os.environ}
        env.update(HOME=workdir, TMPDIR=workdir, PYTHONDONTWRITEBYTECODE="1")
        started = time.perf_counter()
        with out_path.open("wb") as out, err_path.open("wb") as err:
            process = subprocess.Popen(
                [sys.executable, "-I", str(script)],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=err,
                cwd=workdir,
                env=env,
                start_new_session=True,
                preexec_fn=lambda: _apply_limits(limits),
            )
            timed_out = _communicate(process, stdin, limits.timeout_s)
        return SandboxResult(
            returncode=process.returncode,
            stdout=_read_capped(out_path),
            stderr=_read_capped(err_path),
            timed_out=timed_out,
            duration_s=time.perf_counter() - started,
        )


def _communicate(process: subprocess.Popen[bytes], stdin: str, timeout_s: float) -> bool:
    """Feed stdin and wait; on timeout kill the whole process group. Returns ``timed_out``."""
    try:
        process.communicate(stdin.encode(), timeout=timeout_s)
        return False
    except subprocess.TimeoutExpired:
        _kill_group(process)
        return True
    finally:
        _kill_group(process)  # leftovers the script forked and left behind


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _apply_limits(limits: SandboxLimits) -> None:
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s))
    resource.setrlimit(resource.RLIMIT_FSIZE, (_OUTPUT_LIMIT_BYTES, _OUTPUT_LIMIT_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _read_capped(path: Path) -> str:
    with path.open("rb") as handle:
        return handle.read(_OUTPUT_LIMIT_BYTES).decode("utf-8", errors="replace")
