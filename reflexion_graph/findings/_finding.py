"""A finding: a change you can run, the line that says it, and what it was verified on."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from reflexion_graph import prompts

ChangeKind = Literal["output", "input", "guard"]
"""``output``: the result is changed (``round(result * 100)``); ``input``: the arguments are,
before the function runs (``tag = tag.lower()``); ``guard``: an input the function raised on
gets the value its check states, before the rest runs."""


@dataclass(frozen=True)
class Change:
    """A change to the function the checks call, as code and as the statement that makes it."""

    kind: ChangeKind
    function: str
    """The function changed (the one the checks call)."""
    code: str
    """The change as Python: the statement put first in the function (``input``, ``guard``) or
    the expression it returns in place of ``result`` (``output``)."""
    cost: int
    """How many building blocks it takes, an induced constant counting one more: simpler first."""
    constants: int = 0
    """How many constants it takes from the checks' values (a factor, a prefix)."""
    kept: bool = True
    """Whether memory may keep it as a convention for later tasks: not a shift by one, which
    is told within a task (where every check confirmed it) but across tasks is the commonest
    coincidence (a count one short)."""

    @property
    def carries_over(self) -> bool:
        """Whether it applies to another task's function: an output change names no argument."""
        return self.kind == "output"


@dataclass(frozen=True)
class Finding:
    """A change that turns the failed answer into one that passes every check of its task."""

    statement: str
    """What to do, in one line, with the change as code the model can copy."""
    change: Change
    source: str
    """The proposer that suggested it (``search``, ``probes``, ``guards``)."""
    checks: int
    """How many checks the changed answer passed: every check of the task."""
    fixed: int
    """How many of them the answer failed before the change."""
    alternatives: int = 0
    """Other verified changes of the same cost: they agree on every check; the first is told."""

    @property
    def convention(self) -> str:
        """The change as a convention for later tasks (``prompts.CONVENTIONS``)."""
        return prompts.CONVENTIONS[self.change.kind].format(
            code=self.change.code, function=self.change.function
        )

    def to_record(self) -> dict[str, Any]:
        """The finding as JSON-native data (what a verdict and a stored convention keep)."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Finding:
        """A finding from :meth:`to_record`'s data."""
        return cls(**{**record, "change": Change(**record["change"])})
