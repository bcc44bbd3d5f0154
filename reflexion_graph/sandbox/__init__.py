"""How untrusted code runs: isolated, limited, and warm where the machine allows it.

The package stands alone (standard library only, nothing else of this project): a
:class:`Sandbox` probes the machine once, keeps warm workers for untrusted code and for the
trusted side beside it, and ships child scripts as source (:func:`child_script`).
"""

from reflexion_graph.sandbox._isolation import Isolation
from reflexion_graph.sandbox._limits import SandboxLimits
from reflexion_graph.sandbox._sandbox import Child, Sandbox, SandboxedProcess, default_sandbox
from reflexion_graph.sandbox._scripts import child_script
from reflexion_graph.sandbox._warm import WarmStartFailed


def probe_isolation() -> Isolation:
    """What this machine lets the shared sandbox do (probed once; each gap is logged)."""
    return default_sandbox().isolation


__all__ = [
    "Child",
    "Isolation",
    "Sandbox",
    "SandboxLimits",
    "SandboxedProcess",
    "WarmStartFailed",
    "child_script",
    "default_sandbox",
    "probe_isolation",
]
