"""Batch throughput: the demo tasks one at a time vs. concurrently, against one embedded
llama.cpp server with parallel slots (continuous batching), in the same run.

Prints a table and writes ``benchmarks/results/batch.json``.

    .venv/bin/python benchmarks/batch_bench.py [--repeat 2] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

from reflexion_graph import (
    ModelSettings,
    ReflexionContext,
    create_chat_model,
    create_reflexion_agent,
)
from reflexion_graph.tasks import TaskSpec, demo_tasks

RESULTS = Path(__file__).with_name("results") / "batch.json"


async def solve_all(tasks: list[TaskSpec], model: Any, concurrency: int) -> dict[str, Any]:
    slots = asyncio.Semaphore(concurrency)
    context = ReflexionContext(max_attempts=2)

    async def solve(spec: TaskSpec) -> dict[str, Any]:
        async with slots:
            graph = create_reflexion_agent(model, evaluator=spec.evaluator)
            return await graph.ainvoke({"task": spec.task}, context=context)

    started = time.perf_counter()
    results = await asyncio.gather(*(solve(spec) for spec in tasks))
    seconds = time.perf_counter() - started
    tokens = sum(r["usage"]["output_tokens"] for r in results)
    return {
        "concurrency": concurrency,
        "tasks": len(tasks),
        "seconds": round(seconds, 1),
        "tasks_per_minute": round(60 * len(tasks) / seconds, 2),
        "attempts": sum(len(r["attempts"]) for r in results),
        "passed": sum(r["stop_reason"] == "passed" for r in results),
        "output_tokens_per_s": round(tokens / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="copies of the demo set")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    model = create_chat_model(ModelSettings(parallel=args.concurrency, seed=11, max_tokens=256))
    tasks = demo_tasks() * args.repeat

    async def both() -> tuple[dict[str, Any], dict[str, Any]]:  # one loop: one HTTP client
        return await solve_all(tasks, model, 1), await solve_all(tasks, model, args.concurrency)

    sequential, concurrent = asyncio.run(both())
    ratio = round(concurrent["tasks_per_minute"] / sequential["tasks_per_minute"], 2)
    print("| mode | tasks | attempts | passed | seconds | tasks/min | out tok/s |")
    print("|---|---|---|---|---|---|---|")
    for row in (sequential, concurrent):
        print(
            f"| concurrency {row['concurrency']} | {row['tasks']} | {row['attempts']} | "
            f"{row['passed']} | {row['seconds']} | {row['tasks_per_minute']} | "
            f"{row['output_tokens_per_s']} |"
        )
    print(f"\nthroughput ratio (concurrent / sequential): {ratio}x")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "sequential": sequential,
                "concurrent": concurrent,
                "ratio": ratio,
                "server_parallel_slots": args.concurrency,
            },
            indent=2,
        )
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
