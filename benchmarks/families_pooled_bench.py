"""The families report pooled over seeds: transfer, the oracle's gain, paired tests, cost.

Reads the results files of several ``reflexion-graph bench --dataset families:report`` runs
(one per seed, the same lanes) and reports each seed and the pool: first-attempt transfer on
tasks 2-4, the share of the oracle's gain each memory lane recovers, exact McNemar tests on
counts summed within seeds, tokens and seconds per solved task (replays included), and where
transfer is lost (a family lesson written, recalled, helping). No model is called.

    .venv/bin/python benchmarks/families_pooled_bench.py \
        benchmarks/results/families-report-seed{1,2,3}-qwen.json

Prints the tables and writes ``benchmarks/results/families-report-pooled.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from reflexion_graph.bench._transfer import pooled_transfer

RESULTS = Path(__file__).with_name("results") / "families-report-pooled.json"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _per_solved(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def markdown(title: str, pooled: dict[str, Any]) -> str:
    """One run's or the pool's tables."""
    lines = [
        f"**{title}**",
        "",
        "| lane | later tasks | first attempt on tasks 2-4 | share of the oracle's gain "
        "| tokens / solved | seconds / solved |",
        "|---|---|---|---|---|---|",
    ]
    for row in pooled["lanes"]:
        lines.append(
            f"| {row['strategy']} | {row['later_tasks']} | {row['transfer_at_1']:.2f} | "
            f"{_share(row['oracle_gain_recovered'])} | {_per_solved(row['tokens_per_solved'])} | "
            f"{_per_solved(row['seconds_per_solved'])} |"
        )
    lines += [
        "",
        "| paired (first attempt, tasks 2-4) | tasks | only a | only b | exact McNemar p |",
        "|---|---|---|---|---|",
    ]
    for pair in pooled["pairs"]:
        lines.append(
            f"| {pair['a']} vs {pair['b']} | {pair['tasks']} | {pair['only_a']} | "
            f"{pair['only_b']} | {pair['p_value']:.3f} |"
        )
    for lane, reach in pooled["where_lost"].items():
        lines.append(
            f"\n{lane}: of {reach['later_tasks']} later tasks, {reach['written']} had a lesson "
            f"of their family stored before them, {reach['recalled']} recalled it, "
            f"{reach['helped']} of those passed first time"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="+", help="one results file per seed")
    args = parser.parse_args()
    runs = {path.name: json.loads(path.read_text())["records"] for path in args.results}
    report = {name: pooled_transfer([records]) for name, records in runs.items()}
    report["pooled"] = pooled_transfer(list(runs.values()))
    for name, pooled in report.items():
        print(markdown(name, pooled) + "\n")
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
