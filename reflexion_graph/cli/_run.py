"""``reflexion-graph run``: solve tasks with reflection and show every step live."""

from __future__ import annotations

import argparse
import functools
import json
import time
from pathlib import Path
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langchain_openai import ChatOpenAI
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from rich.console import Console

from reflexion_graph.cli._display import RunDisplay, TaskResult
from reflexion_graph.cli._memory import add_memory_arguments, open_memory
from reflexion_graph.cli._shared import (
    add_command,
    add_model_arguments,
    model_settings,
    start_model,
)
from reflexion_graph.episodes import EpisodeLog
from reflexion_graph.errors import ConfigurationError, InvalidTaskError
from reflexion_graph.graph._factory import create_reflexion_agent
from reflexion_graph.loop._settings import REMEMBER_POLICIES, RETRY_CONTEXTS, ReflexionContext
from reflexion_graph.models import ModelSettings
from reflexion_graph.tasks import (
    EVALUATOR_BUILDERS,
    ModelFactory,
    TaskSpec,
    demo_tasks,
    load_tasks,
    task_from_mapping,
)

_HELP = "solve tasks with reflection"
_DESCRIPTION = "Solve tasks with Reflexion and show each attempt, verdict and reflection."
_EXAMPLES = """examples:
  reflexion-graph run --demo
  reflexion-graph run --tasks my_tasks.jsonl --max-attempts 4
  reflexion-graph run "Write a function add(a, b)..." --tests "assert add(1, 2) == 3"
  reflexion-graph run "What is 6 * 7?" --expected 42 --base-url http://localhost:8000/v1

task file (JSONL), one task a line:
  {"id": "add", "task": "...", "tests": "assert add(1, 2) == 3"}     # unit tests
  {"id": "capital", "task": "...", "expected": "Paris"}              # exact answer
  {"id": "sum", "task": "...", "pattern": "^42$"}                    # regex on the answer
"""


def add_parser(commands: Any) -> None:
    """Register the ``run`` sub-command."""
    parser = add_command(commands, "run", help=_HELP, description=_DESCRIPTION, epilog=_EXAMPLES)
    source = parser.add_argument_group("tasks (one source)")
    source.add_argument("task", nargs="?", help="a task text, checked by --tests/--expected/...")
    source.add_argument("--tasks", type=Path, metavar="FILE", help="a JSONL file of tasks")
    source.add_argument("--demo", action="store_true", help="the demo task set shipped inside")
    check = parser.add_argument_group("checks for a task given on the command line")
    check.add_argument(
        "--evaluator",
        choices=sorted(EVALUATOR_BUILDERS),
        help="the kind of check (inferred from --tests/--expected/--pattern when left out)",
    )
    check.add_argument("--tests", help="Python asserts the answer's code must pass")
    check.add_argument("--entry-point", help="function name for HumanEval-style check()")
    check.add_argument("--expected", help="the expected final answer")
    check.add_argument("--pattern", help="a regex the final answer must match")
    loop = parser.add_argument_group("the loop")
    loop.add_argument("--max-attempts", type=int, default=3, help="attempts per task (default 3)")
    loop.add_argument(
        "--reflection-window",
        type=int,
        default=3,
        help="latest reflections the actor sees (default 3)",
    )
    loop.add_argument(
        "--retry-context",
        choices=RETRY_CONTEXTS,
        default=ReflexionContext.retry_context,
        help=f"what a retry sees (default {ReflexionContext.retry_context})",
    )
    loop.add_argument("--limit", type=int, help="run only the first N tasks")
    loop.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON")
    loop.add_argument("--strict", action="store_true", help="exit with 1 if any task is unsolved")
    memory = parser.add_argument_group("memory (default: Chroma in ./.reflexion_graph/memory)")
    add_memory_arguments(memory)
    memory.add_argument("--no-memory", action="store_true", help="keep lessons in the run only")
    memory.add_argument(
        "--review",
        action="store_true",
        help="store new lessons as pending: recalled once approved (memory approve ID...)",
    )
    memory.add_argument(
        "--remember",
        choices=REMEMBER_POLICIES,
        default=ReflexionContext.remember,
        help="what memory keeps: a rule written in hindsight once a failed task passes, "
        "checked by a replay; every lesson as written; the checks a run failed (evidence); "
        f"or evidence and the rule (default {ReflexionContext.remember})",
    )
    memory.add_argument(
        "--recall-evidence",
        type=int,
        default=ReflexionContext.recall_evidence,
        help="evidence lessons (checks earlier tasks failed) shown per task "
        f"(default {ReflexionContext.recall_evidence})",
    )
    loop.add_argument(
        "--episodes",
        type=Path,
        metavar="FILE",
        help="append every run to this episode log (training data)",
    )
    add_model_arguments(parser)
    parser.add_argument("--seed", type=int, help="sampling seed, for repeatable runs")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Solve every task; exit code 0 once the run completes (with --strict: when all passed)."""
    context = ReflexionContext(
        max_attempts=args.max_attempts,
        reflection_window=args.reflection_window,
        retry_context=args.retry_context,
        memory_scope=args.scope,
        remember=args.remember,
        recall_evidence=args.recall_evidence,
    )
    settings = model_settings(args, seed=args.seed)
    display = RunDisplay(console)
    episodes = EpisodeLog(args.episodes) if args.episodes else None

    @functools.cache
    def model_factory() -> ChatOpenAI:
        with display.status("starting the model"):
            return start_model(settings)

    tasks = _tasks(args, model_factory)
    memory = None if args.no_memory else open_memory(args, review=args.review)
    chat_model = model_factory()
    display.header(len(tasks), chat_model.model_name, context.max_attempts)
    started = time.perf_counter()
    results = []
    for spec in tasks:
        graph = create_reflexion_agent(
            chat_model,
            evaluator=spec.evaluator,
            memory=memory,
            checkpointer=InMemorySaver(),
            episode_log=episodes,
        )
        display.task_started(spec)
        task_started = time.perf_counter()
        config: RunnableConfig = {"configurable": {"thread_id": spec.id}}
        run_input: Any = {"task": spec.task}
        final: dict[str, Any] = {}
        while run_input is not None:  # a human evaluator interrupts; ask, then resume
            with display.status(f"{spec.id}: attempt {display.attempt + 1}"):
                for mode, chunk in graph.stream(
                    run_input, config, context=context, stream_mode=["updates", "values"]
                ):
                    if mode == "values":
                        final = cast(dict[str, Any], chunk)
                    else:
                        display.step(spec, cast(dict[str, Any], chunk))
            pending = graph.get_state(config).interrupts
            run_input = Command(resume=display.ask_human(pending[0].value)) if pending else None
        results.append(TaskResult.from_state(spec.id, final, time.perf_counter() - task_started))
    display.summary(results, time.perf_counter() - started)
    if args.json:
        _write_json(args.json, results, settings, context)
    unsolved = not all(result.passed for result in results)
    return 1 if args.strict and unsolved else 0


def _tasks(args: argparse.Namespace, model_factory: ModelFactory) -> list[TaskSpec]:
    sources = [bool(args.task), bool(args.tasks), bool(args.demo)]
    if sum(sources) != 1:
        raise ConfigurationError(
            "give exactly one task source: a TASK text, --tasks FILE or --demo"
        )
    if args.task is not None and not args.task.strip():
        raise InvalidTaskError("the task text is empty")
    if args.demo:
        tasks = demo_tasks()
    elif args.tasks:
        tasks = load_tasks(args.tasks, model_factory=model_factory)
    else:
        fields = ("evaluator", "tests", "entry_point", "expected", "pattern")
        spec = {key: getattr(args, key) for key in fields if getattr(args, key)}
        tasks = [
            task_from_mapping(
                {"task": args.task, **spec}, default_id="task", model_factory=model_factory
            )
        ]
    if args.limit is not None:
        if args.limit < 1:
            raise ConfigurationError(f"--limit must be >= 1, got {args.limit}")
        tasks = tasks[: args.limit]
    return tasks


def _write_json(
    path: Path, results: list[TaskResult], settings: ModelSettings, context: ReflexionContext
) -> None:
    payload = {
        "settings": {
            "base_url": settings.base_url,
            "model": settings.model,
            "max_attempts": context.max_attempts,
        },
        "results": [result.as_dict() for result in results],
    }
    try:
        path.write_text(json.dumps(payload, indent=2))
    except OSError as error:
        raise ConfigurationError(f"cannot write {str(path)!r}: {error}") from error
