"""The families report pooled over seeds: transfer, the oracle's gain, paired tests, cost.

Reads the results files of several ``reflexion-graph bench --dataset families:report`` runs
(one per seed, the same lanes) and reports each seed and the pool: first-attempt transfer on
tasks 2-4, the share of the oracle's gain each memory lane recovers, exact McNemar tests on
counts summed within seeds, tokens and seconds per solved task (replays included), and where
transfer is lost (a family lesson written, recalled, helping). No model is called.

    .venv/bin/python benchmarks/families_pooled_bench.py \
        benchmarks/results/families-report-seed{1,2,3}-qwen.json

``--earlier`` names, seed for seed, the files of an earlier run of the same lanes (for example
the evidence lane before a change to its lines): each lane both hold is paired with its
earlier self on the first attempts of tasks 2-4, pooled over the seeds.

Prints the tables and writes ``benchmarks/results/families-report-pooled.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from reflexion_graph.bench._report import Records, mcnemar_exact, paired_row
from reflexion_graph.bench._transfer import later_tasks, pooled_transfer

RESULTS = Path(__file__).with_name("results") / "families-report-pooled.json"
_COUNTS = ("tasks", "now", "earlier", "only_now", "only_earlier")


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


def against_earlier(runs: list[Records], earlier: list[Records]) -> list[dict[str, Any]]:
    """Each lane a run and its earlier run both hold, run anew, paired with its earlier self."""
    totals: dict[str, dict[str, Any]] = {}
    for now, before in zip(runs, earlier, strict=True):
        for lane in sorted(lane for lane in set(now) & set(before) if now[lane] != before[lane]):
            first = {t: bool(r["success_at"][0]) for t, r in later_tasks(now[lane]).items()}
            then = {t: bool(r["success_at"][0]) for t, r in later_tasks(before[lane]).items()}
            row = paired_row(lane, f"{lane} (earlier)", first, then)
            shared = first.keys() & then.keys()
            total = totals.setdefault(lane, dict.fromkeys(_COUNTS, 0))
            total["tasks"] += len(shared)
            total["now"] += sum(first[t] for t in shared)
            total["earlier"] += sum(then[t] for t in shared)
            total["only_now"] += len(row["only_a"])
            total["only_earlier"] += len(row["only_b"])
    return [
        {"lane": lane, **total, "p_value": mcnemar_exact(total["only_now"], total["only_earlier"])}
        for lane, total in totals.items()
    ]


def earlier_markdown(rows: list[dict[str, Any]]) -> str:
    """The lanes against their earlier runs."""
    lines = [
        "**against the earlier runs (first attempt, tasks 2-4, pooled)**",
        "",
        "| lane | tasks | now | earlier | only now | only earlier | exact McNemar p |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['lane']} | {row['tasks']} | {row['now'] / row['tasks']:.2f} | "
            f"{row['earlier'] / row['tasks']:.2f} | {row['only_now']} | {row['only_earlier']} | "
            f"{row['p_value']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="+", help="one results file per seed")
    parser.add_argument(
        "--earlier", type=Path, nargs="+", default=[], help="an earlier run's file per seed"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="the JSON report")
    args = parser.parse_args()
    if args.earlier and len(args.earlier) != len(args.results):
        parser.error("--earlier needs one file per results file, in the same order")
    runs = {path.name: json.loads(path.read_text())["records"] for path in args.results}
    report: dict[str, Any] = {name: pooled_transfer([records]) for name, records in runs.items()}
    report["pooled"] = pooled_transfer(list(runs.values()))
    for name, pooled in report.items():
        print(markdown(name, pooled) + "\n")
    if args.earlier:
        earlier = [json.loads(path.read_text())["records"] for path in args.earlier]
        report["against_earlier"] = against_earlier(list(runs.values()), earlier)
        print(earlier_markdown(report["against_earlier"]))
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
