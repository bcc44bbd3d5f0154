"""Summaries of a benchmark run: a Markdown table, paired comparisons, a PNG plot."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

Records = dict[str, dict[str, dict[str, Any]]]


def summary(records: Records, attempts: int) -> list[dict[str, Any]]:
    """Per strategy: success after attempt 1..k, tokens, model calls, wall time."""
    rows = []
    for strategy, by_task in records.items():
        done = list(by_task.values())
        if not done:
            continue
        count = len(done)
        rows.append(
            {
                "strategy": strategy,
                "tasks": count,
                "success_at": [
                    sum(r["success_at"][k] for r in done) / count for k in range(attempts)
                ],
                "input_tokens": sum(r["input_tokens"] for r in done),
                "output_tokens": sum(r["output_tokens"] for r in done),
                "model_calls": sum(r["model_calls"] for r in done),
                "seconds": round(sum(r["seconds"] for r in done), 1),
            }
        )
    return rows


def paired(records: Records) -> list[dict[str, Any]]:
    """For each pair of strategies: tasks solved (at the full budget) by one and not the other."""
    solved = {
        s: {t for t, r in by_task.items() if r["success_at"][-1]} for s, by_task in records.items()
    }
    common = {s: set(by_task) for s, by_task in records.items()}
    rows = []
    for first, second in combinations(records, 2):
        shared = common[first] & common[second]
        rows.append(
            {
                "a": first,
                "b": second,
                "tasks": len(shared),
                "only_a": sorted((solved[first] - solved[second]) & shared),
                "only_b": sorted((solved[second] - solved[first]) & shared),
            }
        )
    return rows


def markdown(records: Records, attempts: int, config: dict[str, Any]) -> str:
    """The tables printed at the end of ``reflexion-graph bench``."""
    header = " | ".join(f"@{k}" for k in range(1, attempts + 1))
    lines = [
        f"dataset {config['dataset']} · feedback {config['feedback']} · model {config['model']}"
        f" · seed {config['seed']} · attempt budget {attempts}",
        "",
        f"| strategy | tasks | success {header} | tokens in | tokens out | calls | seconds |",
        "|---|---|" + "---|" * attempts + "---|---|---|---|",
    ]
    for row in summary(records, attempts):
        rates = " | ".join(f"{rate:.2f}" for rate in row["success_at"])
        lines.append(
            f"| {row['strategy']} | {row['tasks']} | {rates} | {row['input_tokens']} | "
            f"{row['output_tokens']} | {row['model_calls']} | {row['seconds']} |"
        )
    lines += [
        "",
        "| paired (at the full budget) | tasks | solved only by a | solved only by b |",
        "|---|---|---|---|",
    ]
    for row in paired(records):
        lines.append(
            f"| {row['a']} vs {row['b']} | {row['tasks']} | {len(row['only_a'])} | "
            f"{len(row['only_b'])} |"
        )
    return "\n".join(lines)


def plot(records: Records, attempts: int, path: Path, title: str) -> None:
    """Success rate after each attempt, one line per strategy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    steps = list(range(1, attempts + 1))
    for row in summary(records, attempts):
        label = f"{row['strategy']} (n={row['tasks']})"
        axes.plot(steps, row["success_at"], marker="o", label=label)
    axes.set(
        xlabel="attempts",
        ylabel="success rate (hidden check)",
        title=title,
        xticks=steps,
        ylim=(0, 1),
    )
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
