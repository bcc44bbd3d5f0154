"""What the findings tell on a results file's failed first answers: no model is called.

Each task's shared first answer (from a ``reflexion-graph bench`` results file) is judged again
by the task's evaluator, as the code on ``PYTHONPATH`` judges it; for each failed answer the
findings it tells are listed beside the family's convention, so a reader can judge each one
right or wrong for the family. Run it under two commits to compare them on the same answers:

    .venv/bin/python benchmarks/findings_bench.py \\
        --dataset families:../shared/families/blind.toml \\
        --answers benchmarks/results/families-blind-seed1-qwen.json \\
        --out benchmarks/results/findings-blind-seed1-new.json
    PYTHONPATH=../bench-base .venv/bin/python benchmarks/findings_bench.py ... --out ...-old.json

``--model-proposer URL`` adds ``ModelProposer`` on that endpoint (one call per failed answer).
``--judged FILE`` (JSON: ``"<task>: <finding>"`` -> ``right`` or ``wrong``, written by reading
each one beside its family's convention) adds the counts of right and wrong findings to the
table: right where the change does what the convention says (or part of it), wrong where it
states a rule the convention contradicts.
Prints a table and writes the JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from reflexion_graph.bench._families import families_of, family_of


def run(dataset: str, answers: Path, model_url: str | None = None) -> list[dict[str, Any]]:
    """One row per task with a shared first answer: its verdict and the findings told.

    With ``model_url`` (an OpenAI-compatible endpoint), the model proposer runs too.
    """
    families = families_of(dataset.partition(":")[2] or None)
    proposers = None
    if model_url:
        from reflexion_graph.findings import PROPOSERS, ModelProposer
        from reflexion_graph.models import ModelSettings, create_chat_model

        settings = ModelSettings(base_url=model_url, model="m", temperature=0.0, seed=0)
        proposers = {**PROPOSERS, "model": ModelProposer(create_chat_model(settings))}
    first = json.loads(answers.read_text())["first_attempts"]
    rows = []
    for family in families:
        for task in family.tasks:
            if task.id not in first:
                continue
            started = time.perf_counter()
            if proposers is not None:
                task.evaluator.proposers = proposers  # type: ignore[attr-defined]
            verdict = task.evaluator.evaluate(task.prompt, first[task.id]["answer"])
            rows.append(
                {
                    "task": task.id,
                    "convention": family.convention,
                    "passed": verdict["passed"],
                    "findings": list(verdict.get("findings") or []),
                    "sources": [c["source"] for c in verdict.get("changes") or []],
                    "seconds": round(time.perf_counter() - started, 3),
                }
            )
    return rows


def summary(rows: list[dict[str, Any]], judged: dict[str, str]) -> dict[str, Any]:
    """Counts: failed answers, those with a finding, findings told, judged right and wrong."""
    failed = [row for row in rows if not row["passed"]]
    told = [f"{row['task']}: {finding}" for row in failed for finding in row["findings"]]
    return {
        "tasks": len(rows),
        "failed": len(failed),
        "with_a_finding": sum(1 for row in failed if row["findings"]),
        "findings": len(told),
        "right": sum(1 for f in told if judged.get(f) == "right"),
        "wrong": sum(1 for f in told if judged.get(f) == "wrong"),
        "unjudged": sum(1 for f in told if f not in judged),
        "families_with_a_finding": len({family_of(r["task"]) for r in failed if r["findings"]}),
        "seconds_per_failed": round(sum(r["seconds"] for r in failed) / max(1, len(failed)), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, help="families:report or families:PATH.toml")
    parser.add_argument("--answers", type=Path, required=True, help="a bench results file")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--judged", type=Path, help='JSON: "<task>: <finding>" -> right | wrong')
    parser.add_argument("--model-proposer", help="an OpenAI-compatible base URL: ask it too")
    args = parser.parse_args()
    judged = json.loads(args.judged.read_text()) if args.judged else {}
    rows = run(args.dataset, args.answers, args.model_proposer)
    counts = summary(rows, judged)
    args.out.write_text(json.dumps({"summary": counts, "rows": rows}, indent=1) + "\n")
    print("| " + " | ".join(counts) + " |")
    print("|" + "---|" * len(counts))
    print("| " + " | ".join(str(v) for v in counts.values()) + " |")
    for row in rows:
        for finding in row["findings"]:
            mark = judged.get(f"{row['task']}: {finding}", "?")
            print(f"- {row['task']} [{mark}]: {finding}\n    convention: {row['convention']}")
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
