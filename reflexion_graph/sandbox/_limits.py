"""What one sandboxed run may use, and what it produced."""

from __future__ import annotations

import resource
from dataclasses import dataclass

RESOURCES = {
    "as": resource.RLIMIT_AS,
    "cpu": resource.RLIMIT_CPU,
    "fsize": resource.RLIMIT_FSIZE,
    "nproc": resource.RLIMIT_NPROC,
    "core": resource.RLIMIT_CORE,
}
"""Each limit's ``resource`` number, by ``prlimit``'s option name."""


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


def rlimits(limits: SandboxLimits) -> dict[str, tuple[int, int]]:
    """The resource limits of one run, soft and hard, by ``prlimit``'s option names."""
    memory = limits.memory_mb * 1024 * 1024
    return {
        "as": (memory, memory),
        "cpu": (limits.cpu_s, limits.cpu_s + 1),  # soft < hard, so SIGXCPU comes first
        "fsize": (limits.output_bytes, limits.output_bytes),
        "nproc": (limits.max_processes, limits.max_processes),
        "core": (0, 0),
    }


def numbered_rlimits(limits: SandboxLimits) -> list[tuple[int, int, int]]:
    """The same limits as ``(resource number, soft, hard)``: what a fork server's child sets."""
    return [(RESOURCES[name], soft, hard) for name, (soft, hard) in rlimits(limits).items()]
