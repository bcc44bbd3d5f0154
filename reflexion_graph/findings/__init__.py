"""Findings: changes to a failed answer that make it pass every check of its task.

Proposers suggest changes (a search over general operations on the returned value, plain
changes to an argument, a guard for an empty input; opt in: a model writing them,
``ModelProposer``); the verifier runs the changed answer
against all the task's checks, the ones it failed and the ones it passed; only a change that
passes them all is told, the simplest first. Nothing is told from one pair of values.
"""

from reflexion_graph.findings._checks import CheckCall, check_call
from reflexion_graph.findings._find import (
    ChangeVerifier,
    FailedTest,
    PassesAll,
    find,
    statement,
)
from reflexion_graph.findings._finding import Change, ChangeKind, Finding
from reflexion_graph.findings._model import ModelProposer
from reflexion_graph.findings._proposers import PROPOSERS, Evidence, FailedCall, Proposer
from reflexion_graph.findings._verify import changed_code

__all__ = [
    "PROPOSERS",
    "Change",
    "ChangeKind",
    "ChangeVerifier",
    "CheckCall",
    "Evidence",
    "FailedCall",
    "FailedTest",
    "Finding",
    "ModelProposer",
    "PassesAll",
    "Proposer",
    "changed_code",
    "check_call",
    "find",
    "statement",
]
