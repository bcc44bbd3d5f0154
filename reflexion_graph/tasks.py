"""Task specifications: a task text plus the evaluator that checks it (JSONL-friendly)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from reflexion_graph.errors import ConfigurationError, InvalidTaskError
from reflexion_graph.evaluators import (
    DEFAULT_ASPECTS,
    BaseEvaluator,
    CodeTestEvaluator,
    CountdownEvaluator,
    ExactMatchEvaluator,
    FunctionCallEvaluator,
    HumanEvaluator,
    JSONSchemaEvaluator,
    LLMJudge,
    RegexEvaluator,
    RubricJudge,
    SelfTestEvaluator,
)

ModelFactory = Callable[[], BaseChatModel]
"""Gives the chat model to evaluators that need one (judges, self-tests), made on demand."""
EvaluatorBuilder = Callable[[Mapping[str, Any], ModelFactory], BaseEvaluator]


def _tests(spec: Mapping[str, Any], model: ModelFactory) -> BaseEvaluator:
    return CodeTestEvaluator(_required(spec, "tests"), entry_point=spec.get("entry_point"))


def _countdown(spec: Mapping[str, Any], model: ModelFactory) -> BaseEvaluator:
    numbers, target = _typed(spec, "numbers", list), _typed(spec, "target", int)
    return CountdownEvaluator(numbers, target, use_all=bool(spec.get("use_all", False)))


def _function_call(spec: Mapping[str, Any], model: ModelFactory) -> BaseEvaluator:
    arguments = _typed(spec, "arguments", dict)
    acceptable = {k: v if isinstance(v, list) else [v] for k, v in arguments.items()}
    return FunctionCallEvaluator(_required(spec, "function"), acceptable)


def _judge(spec: Mapping[str, Any], model: ModelFactory) -> BaseEvaluator:
    criteria = spec.get("criteria")
    return LLMJudge(model(), criteria=criteria) if criteria else LLMJudge(model())


def _rubric(spec: Mapping[str, Any], model: ModelFactory) -> BaseEvaluator:
    return RubricJudge(model(), aspects=spec.get("aspects") or DEFAULT_ASPECTS)


EVALUATOR_BUILDERS: dict[str, EvaluatorBuilder] = {
    "tests": _tests,
    "exact": lambda spec, model: ExactMatchEvaluator(_required(spec, "expected")),
    "regex": lambda spec, model: RegexEvaluator(_required(spec, "pattern")),
    "countdown": _countdown,
    "function_call": _function_call,
    "json_schema": lambda spec, model: JSONSchemaEvaluator(_typed(spec, "schema", dict)),
    "judge": _judge,
    "rubric": _rubric,
    "self_tests": lambda spec, model: SelfTestEvaluator(model()),
    "human": lambda spec, model: HumanEvaluator(),
}
"""Evaluator kinds a task file may name, and how each is built from the task's fields."""

_INFERRED_KIND = {
    "tests": "tests",
    "expected": "exact",
    "pattern": "regex",
    "target": "countdown",
    "function": "function_call",
    "schema": "json_schema",
}


def _no_model() -> BaseChatModel:
    raise ConfigurationError("this evaluator needs a chat model; pass model_factory=...")


@dataclass(frozen=True)
class TaskSpec:
    """One task to solve and the evaluator that judges it."""

    id: str
    task: str
    evaluator: BaseEvaluator


def task_from_mapping(
    spec: Mapping[str, Any], *, default_id: str, model_factory: ModelFactory = _no_model
) -> TaskSpec:
    """Build a :class:`TaskSpec` from ``{"task", "evaluator"?, "tests"|"expected"|"pattern"}``."""
    text = spec.get("task")
    if not isinstance(text, str) or not text.strip():
        raise InvalidTaskError(f"task {default_id!r} needs a non-empty 'task' text")
    kind = spec.get("evaluator") or next((k for f, k in _INFERRED_KIND.items() if f in spec), None)
    if kind is None:
        raise ConfigurationError(
            f"task {default_id!r} names no evaluator: give 'evaluator' or one of "
            f"{sorted(_INFERRED_KIND)}"
        )
    builder = EVALUATOR_BUILDERS.get(kind)
    if builder is None:
        raise ConfigurationError(
            f"task {default_id!r}: unknown evaluator {kind!r}; known: {sorted(EVALUATOR_BUILDERS)}"
        )
    return TaskSpec(
        id=str(spec.get("id") or default_id),
        task=text.strip(),
        evaluator=builder(spec, model_factory),
    )


def load_tasks(path: str | Path, *, model_factory: ModelFactory = _no_model) -> list[TaskSpec]:
    """Read a JSONL file of task specifications; errors name the file and line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ConfigurationError(f"cannot read task file {str(path)!r}: {error}") from error
    return _parse_lines(lines, source=str(path), model_factory=model_factory)


def demo_tasks() -> list[TaskSpec]:
    """The small demo set shipped with the package."""
    text = resources.files("reflexion_graph").joinpath("data/demo_tasks.jsonl").read_text()
    return _parse_lines(text.splitlines(), source="demo_tasks.jsonl")


def _parse_lines(
    lines: Iterable[str], *, source: str, model_factory: ModelFactory = _no_model
) -> list[TaskSpec]:
    tasks = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            spec = json.loads(line)
        except json.JSONDecodeError as error:
            raise ConfigurationError(f"{where}: not valid JSON ({error.msg})") from error
        if not isinstance(spec, dict):
            raise ConfigurationError(f"{where}: each line must be a JSON object")
        try:
            tasks.append(
                task_from_mapping(spec, default_id=f"line-{number}", model_factory=model_factory)
            )
        except ConfigurationError as error:
            raise type(error)(f"{where}: {error}") from error
    if not tasks:
        raise InvalidTaskError(f"{source} contains no tasks")
    return tasks


def _typed(spec: Mapping[str, Any], field: str, kind: type) -> Any:
    value = spec.get(field)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ConfigurationError(f"field {field!r} must be a JSON {kind.__name__}, got {value!r}")
    return value


def _required(spec: Mapping[str, Any], field: str) -> str:
    value = spec.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"field {field!r} must be a non-empty string")
    return value
