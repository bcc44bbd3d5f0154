"""Summaries of a benchmark run: a Markdown table, paired comparisons, a PNG plot."""

from __future__ import annotations

from itertools import combinations
from math import comb
from pathlib import Path
from typing import Any

from reflexion_graph._extras import require_extra

Records = dict[str, dict[str, dict[str, Any]]]


def summary_rows(records: Records, attempts: int) -> list[dict[str, Any]]:
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
                "solved": sum(r["success_at"][-1] for r in done),
            }
        )
    return rows


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts (a binomial test at 1/2)."""
    discordant = only_a + only_b
    if discordant == 0:
        return 1.0
    tail = sum(comb(discordant, i) for i in range(min(only_a, only_b) + 1)) / 2**discordant
    return float(min(1.0, 2 * tail))


def paired_rows(records: Records) -> list[dict[str, Any]]:
    """For each pair of strategies: tasks solved (at the full budget) by one and not the other."""
    solved = {
        s: {t: bool(r["success_at"][-1]) for t, r in by_task.items()}
        for s, by_task in records.items()
    }
    return [paired_row(a, b, solved[a], solved[b]) for a, b in combinations(records, 2)]


def paired_row(a: str, b: str, first: dict[str, bool], second: dict[str, bool]) -> dict[str, Any]:
    """The tasks both lanes ran that only ``a`` / only ``b`` passed, and the exact McNemar p."""
    shared = sorted(set(first) & set(second))
    only_a = [task for task in shared if first[task] and not second[task]]
    only_b = [task for task in shared if second[task] and not first[task]]
    return {
        "a": a,
        "b": b,
        "tasks": len(shared),
        "only_a": only_a,
        "only_b": only_b,
        "p_value": mcnemar_exact(len(only_a), len(only_b)),
    }


def results_markdown(records: Records, attempts: int, config: dict[str, Any]) -> str:
    """The tables printed at the end of ``reflexion-graph bench``."""
    header = " | ".join(f"@{k}" for k in range(1, attempts + 1))
    lines = [
        f"dataset {config['dataset']} · feedback {config['feedback']} · model {config['model']}"
        f" · seed {config['seed']} · attempt budget {attempts}",
        "",
        f"| strategy | tasks | success {header} | tokens in | tokens out | calls | seconds "
        "| tokens / solved | seconds / solved |",
        "|---|---|" + "---|" * attempts + "---|---|---|---|---|---|",
    ]
    for row in summary_rows(records, attempts):
        rates = " | ".join(f"{rate:.2f}" for rate in row["success_at"])
        tokens = row["input_tokens"] + row["output_tokens"]
        per_solved = (
            f"{tokens / row['solved']:.0f} | {row['seconds'] / row['solved']:.1f}"
            if row["solved"]
            else "- | -"
        )
        lines.append(
            f"| {row['strategy']} | {row['tasks']} | {rates} | {row['input_tokens']} | "
            f"{row['output_tokens']} | {row['model_calls']} | {row['seconds']} | {per_solved} |"
        )
    lines += [
        "",
        "| paired (at the full budget) | tasks | solved only by a | solved only by b "
        "| exact McNemar p | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for row in paired_rows(records):
        verdict = "significant" if row["p_value"] < 0.05 else "no significant difference"
        lines.append(
            f"| {row['a']} vs {row['b']} | {row['tasks']} | {len(row['only_a'])} | "
            f"{len(row['only_b'])} | {row['p_value']:.3f} | {verdict} |"
        )
    return "\n".join(lines)


def plot_success(records: Records, attempts: int, path: Path, title: str) -> None:
    """Success rate after each attempt, one line per strategy."""
    require_extra("matplotlib", "bench", "--plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    steps = list(range(1, attempts + 1))
    for row in summary_rows(records, attempts):
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
