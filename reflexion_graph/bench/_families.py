"""Task families: tasks that share a convention only failing feedback reveals.

The cross-task memory benchmark. Each family is one module of an imaginary codebase (or one
API) whose tasks share an unstated convention: money in integer cents, 1-based positions, a
date format. A lesson learnt from one task's failure is what the family's next task needs.
Families come from ``data/task_families.toml``; their tasks are interleaved (task 1 of every
family, then task 2 of every family, ...) so recall must find a family's lesson among many.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from reflexion_graph import prompts
from reflexion_graph._parsing import CLOSING_FENCE
from reflexion_graph.bench._task import BenchTask
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.evaluators import BaseEvaluator, CodeTestEvaluator, FunctionCallEvaluator

SPLITS = ("dev", "report")
"""``dev`` families tune prompts and memory; ``report`` families are the ones reported."""


@dataclass(frozen=True)
class FamilyTask:
    """One task of a family: what the actor sees, its checker, and a reference answer."""

    id: str
    prompt: str
    evaluator: BaseEvaluator
    reference: str
    """A passing answer: a ```python block, or the expected call as JSON."""


@dataclass(frozen=True)
class Family:
    """Tasks sharing one convention, which only the benchmark's oracle lane is told."""

    name: str
    split: str
    convention: str
    hidden: tuple[str, ...]
    """Words that would give the convention away: no task text contains them."""
    tasks: tuple[FamilyTask, ...]
    system_prompt: str
    stop: tuple[str, ...]

    def giveaways(self, text: str) -> list[str]:
        """The convention's statement and hidden words that ``text`` contains."""
        found = [self.convention] if self.convention.lower() in text.lower() else []
        return found + [
            word
            for word in self.hidden
            if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
        ]


def load_families(path: Path | None = None) -> list[Family]:
    """The families of a TOML file (the ones shipped with the package if none), in file order."""
    if path is None:
        text = resources.files("reflexion_graph").joinpath("data/task_families.toml").read_text()
    else:
        try:
            text = path.read_text()
        except OSError as error:
            raise ConfigurationError(f"cannot read families file {str(path)!r}: {error}") from None
    try:
        specs = tomllib.loads(text)["family"]
    except (tomllib.TOMLDecodeError, KeyError) as error:
        raise ConfigurationError(
            f"families file {str(path)!r} is not a families TOML: {error}"
        ) from None
    return [_family(spec) for spec in specs]


def family_tasks(split: str | None = None) -> list[BenchTask]:
    """The families' tasks as bench tasks, interleaved; only ``split``'s families if given.

    ``split`` is ``dev``, ``report`` or the path of a families file (every family in it).
    Task 1 of a family carries no oracle lesson (a failure has to reveal the convention
    first); tasks 2 on carry the convention, which only the ``oracle-lesson`` lane shows.
    """
    families = families_of(split)
    rounds = max(len(family.tasks) for family in families)
    return [
        BenchTask(
            task.id,
            task.prompt,
            task.evaluator,
            task.evaluator,
            family.system_prompt,
            stop=family.stop,
            oracle_lesson=family.convention if position > 0 else "",
        )
        for position in range(rounds)
        for family in families
        if position < len(family.tasks)
        for task in family.tasks[position : position + 1]
    ]


def families_of(split: str | None = None) -> list[Family]:
    """The shipped families (of ``split`` if given), or every family of a file's path."""
    if split is not None and split not in SPLITS:
        if not split.endswith(".toml"):
            raise ConfigurationError(
                f"unknown family split {split!r}; known: {list(SPLITS)} or a .toml path"
            )
        return load_families(Path(split))
    return [f for f in load_families() if split is None or f.split == split]


def family_of(task_id: str) -> str:
    """The family name in a task id ``family/n``."""
    return task_id.rpartition("/")[0]


def position_of(task_id: str) -> int:
    """The 1-based position of a task in its family, from its id ``family/n``."""
    return int(task_id.rpartition("/")[2])


def _family(spec: dict[str, Any]) -> Family:
    name = spec["name"]
    if spec.get("split") not in SPLITS:
        raise ConfigurationError(f"family {name!r}: split must be one of {list(SPLITS)}")
    tool = spec.get("tool")
    tasks = tuple(
        _call_task(name, number, tool, task) if tool else _code_task(name, number, spec, task)
        for number, task in enumerate(spec["task"], start=1)
    )
    return Family(
        name=name,
        split=spec["split"],
        convention=spec["convention"],
        hidden=tuple(spec.get("hidden", ())),
        tasks=tasks,
        system_prompt=(
            prompts.FUNCTION_CALL_ACTOR_SYSTEM_PROMPT if tool else prompts.CODE_ACTOR_SYSTEM_PROMPT
        ),
        stop=() if tool else (CLOSING_FENCE,),
    )


def _code_task(family: str, number: int, spec: dict[str, Any], task: dict[str, Any]) -> FamilyTask:
    signature = task["function"]
    prompt = (
        f"{spec['context']}\nWrite the Python function `{signature}`. It returns {task['text']}"
        "\nAnswer with the whole function in one ```python block."
    )
    evaluator = CodeTestEvaluator(task["tests"], entry_point=signature.partition("(")[0])
    reference = f"```python\n{task['reference'].strip()}\n```"
    return FamilyTask(f"{family}/{number}", prompt, evaluator, reference)


def _call_task(family: str, number: int, tool: str, task: dict[str, Any]) -> FamilyTask:
    function = json.loads(tool)
    call = task["call"]
    prompt = (
        f"{task['text']}\n\nAvailable functions:\n{json.dumps([function])}"
        '\n\nReply with the one call to make, as JSON: {"name": ..., "arguments": {...}}'
    )
    evaluator = FunctionCallEvaluator.exact(call["name"], call["arguments"], show_expected=True)
    return FamilyTask(f"{family}/{number}", prompt, evaluator, json.dumps(call))
