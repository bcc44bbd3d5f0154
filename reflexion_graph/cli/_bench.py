"""``reflexion-graph bench`` and ``reflexion-graph export``."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from reflexion_graph.bench import (
    DEFAULT_STRATEGIES,
    BenchRunner,
    load_dataset,
    plot_success,
    results_markdown,
    transfer_markdown,
)
from reflexion_graph.bench._datasets import COUNTDOWN_OPERATORS, FEEDBACK_MODES, select_tasks
from reflexion_graph.bench._families import families_of
from reflexion_graph.bench._lanes import PAPER_RETRY_CONTEXT, lane_of
from reflexion_graph.bench._runner import COMPARED_STRATEGIES
from reflexion_graph.cli._shared import (
    add_command,
    add_model_arguments,
    model_settings,
    start_model,
)
from reflexion_graph.episodes import EpisodeLog, read_episodes
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.loop._settings import RETRY_CONTEXTS
from reflexion_graph.models import model_id
from reflexion_graph.models._binding import repeatable
from reflexion_graph.training import EXPORTS, dpo_rows, write_jsonl

BENCH_MAX_TOKENS = 256
"""The bench's longest reply unless --max-tokens says otherwise: room for a HumanEval function."""

DEFAULT_LIMIT = 20
BENCH_TIMEOUT_S = 900.0
"""A reply may wait this long: slots are shared, and a lost request costs a whole run."""

_HELP = "compare Reflexion with honest baselines"
_DESCRIPTION = "Run strategies on the same tasks, model, seeds and attempt budget."
_EXAMPLES = """examples:
  reflexion-graph bench --dataset countdown --limit 30 --attempts 3
  reflexion-graph bench --dataset humaneval --tasks HumanEval/0-81 --results he.json
  reflexion-graph bench --dataset jsonl:my_tasks.jsonl --strategies retry reflexion
  reflexion-graph bench --dataset families:report --limit 64 \
      --strategies retry reflexion reflexion+memory oracle-lesson --results families.json

Run the same command again to resume an interrupted run from its --results file.
"""


def add_parsers(commands: Any) -> None:
    """Register ``bench`` and ``export``."""
    parser = add_command(commands, "bench", help=_HELP, description=_DESCRIPTION, epilog=_EXAMPLES)
    parser.add_argument(
        "--dataset",
        default="countdown",
        help="humaneval, countdown, families[:dev|report|PATH.toml], bfcl[:CATEGORY] or jsonl:PATH "
        "(default countdown)",
    )
    parser.add_argument(
        "--strategies",
        nargs="+",
        default=list(DEFAULT_STRATEGIES),
        type=_strategy,
        help=f"{', '.join(COMPARED_STRATEGIES)}, or reflexion:<retry context> / "
        f"reflexion+memory:<retry context> (default: {' '.join(DEFAULT_STRATEGIES)}); "
        "the diagnostic lanes are in docs/benchmarks.md",
    )
    parser.add_argument(
        "--feedback",
        choices=FEEDBACK_MODES,
        default="honest",
        help="honest: attempts see only what a user has (prompt examples, "
        "self-tests); oracle: hidden tests too (inflates gains)",
    )
    parser.add_argument(
        "--retry-context",
        choices=RETRY_CONTEXTS,
        default=PAPER_RETRY_CONTEXT,
        help="what the reflexion strategies' retries see "
        f"(default {PAPER_RETRY_CONTEXT}, the Reflexion paper's)",
    )
    parser.add_argument(
        "--recall-k",
        type=int,
        help="lessons a memory lane recalls per task (default: the library's, "
        "or the one the --results file ran with; recorded in the file)",
    )
    parser.add_argument(
        "--tasks",
        nargs="+",
        metavar="ID",
        help="task ids or ranges (HumanEval/0-81 countdown-5); --limit applies after",
    )
    parser.add_argument(
        "--limit", type=int, help="at most this many tasks (default 20, or all of --tasks)"
    )
    parser.add_argument("--attempts", type=int, default=3, help="attempt budget (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="task and sampling seed")
    parser.add_argument(
        "--difficulty", type=int, default=3, help="countdown: how many numbers (default 3)"
    )
    parser.add_argument(
        "--operators",
        default=COUNTDOWN_OPERATORS,
        help=f"countdown: operators that build the targets (default {COUNTDOWN_OPERATORS})",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help="tasks at once (default 4); the embedded server gets as many slots "
        "unless --parallel says otherwise",
    )
    parser.add_argument(
        "--repeatable",
        action="store_true",
        help="one task at a time on one slot, each prompt computed afresh (llama.cpp servers, "
        "the embedded one too): the same request and seed always get the same reply, so lanes "
        "that ask the same get the same (slower: no prompt cache)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("bench-results.json"),
        help="JSON results, resumed when it exists",
    )
    parser.add_argument("--plot", type=Path, help="PNG of success vs attempt")
    parser.add_argument("--episodes", type=Path, help="episode log for the training exports")
    parser.add_argument(
        "--memory-from",
        type=Path,
        help="start the reflexion+memory lane from a copy of this memory folder "
        "(the harm check: another run's RESULTS.memory)",
    )
    add_model_arguments(parser)
    parser.set_defaults(handler=bench)

    export = commands.add_parser(
        "export",
        help="training data from an episode log",
        description="Write GRPO, DPO or SFT rows as JSONL (TRL columns).",
    )
    export.add_argument("format", choices=sorted(EXPORTS))
    export.add_argument("episodes", type=Path, help="an episode log (run/bench --episodes)")
    export.add_argument("output", type=Path, help="the JSONL file to write")
    export.add_argument(
        "--per-aspect",
        action="store_true",
        help="dpo: prefer only when better on every rated aspect (RLRF)",
    )
    export.set_defaults(handler=export_rows)


def bench(args: argparse.Namespace, console: Console) -> int:
    """Run the benchmark, print its tables, write JSON (and a plot)."""
    if (args.limit is not None and args.limit < 1) or args.attempts < 1 or args.concurrency < 1:
        raise ConfigurationError("--limit, --attempts and --concurrency must be >= 1")
    concurrency = 1 if args.repeatable else args.concurrency
    settings = replace(
        model_settings(args),
        parallel=1 if args.repeatable else args.parallel or concurrency,
        max_tokens=args.max_tokens or BENCH_MAX_TOKENS,
        timeout_s=BENCH_TIMEOUT_S,
    )
    with console.status("starting the model"):
        model = start_model(settings)
    if args.repeatable:
        model = repeatable(model)
    tasks = load_dataset(
        args.dataset,
        lambda: model,
        feedback=args.feedback,
        seed=args.seed,
        difficulty=args.difficulty,
        operators=args.operators,
    )
    if args.tasks:
        tasks = select_tasks(tasks, args.tasks)
    tasks = tasks[: args.limit or (len(tasks) if args.tasks else DEFAULT_LIMIT)]
    config = {"dataset": args.dataset, "feedback": args.feedback, "model": model_id(model)}
    if args.dataset == "countdown":
        config |= {"difficulty": args.difficulty, "operators": args.operators}
    if args.repeatable:
        config["repeatable"] = True
    runner = BenchRunner(
        model,
        tasks,
        strategies=args.strategies,
        attempts=args.attempts,
        seed=args.seed,
        results=args.results,
        config=config,
        retry_context=args.retry_context,
        concurrency=concurrency,
        episodes=EpisodeLog(args.episodes) if args.episodes else None,
        memory_from=args.memory_from,
        memory_settings=None if args.recall_k is None else {"recall_k": args.recall_k},
    )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task("bench", total=runner.pending())

        def advance(strategy: str, record: dict[str, Any]) -> None:
            solved = "solved" if record["success_at"][-1] else "unsolved"
            progress.update(bar, advance=1, description=f"{strategy}: {record['task']} {solved}")

        asyncio.run(runner.run(advance))
    console.print(results_markdown(runner.records, args.attempts, runner.config), markup=False)
    if args.dataset.startswith("families"):
        families = families_of(args.dataset.partition(":")[2] or None)
        console.print("\n" + transfer_markdown(runner.records, families), markup=False)
    console.print(f"results: {args.results}")
    if args.plot:
        title = f"{args.dataset} ({args.feedback} feedback)"
        plot_success(runner.records, args.attempts, args.plot, title)
        console.print(f"plot: {args.plot}")
    return 0


def export_rows(args: argparse.Namespace, console: Console) -> int:
    """Write one export format."""
    episodes = read_episodes(args.episodes)
    rows = (
        dpo_rows(episodes, per_aspect=True)
        if args.format == "dpo" and args.per_aspect
        else EXPORTS[args.format](episodes)
    )
    count = write_jsonl(rows, args.output)
    console.print(f"wrote {count} {args.format} row(s) to {args.output}")
    return 0


def _strategy(name: str) -> str:
    """A ``--strategies`` value: a lane the bench knows (argparse shows the error)."""
    try:
        lane_of(name)
    except ConfigurationError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return name
