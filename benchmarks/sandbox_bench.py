"""Sandbox overhead: one sandboxed run of a small program that runs a test on its input,
beside a plain ``subprocess.run`` of the same program, payload and interpreter, in one run.

Prints a table and writes ``benchmarks/results/sandbox.json``.

    .venv/bin/python benchmarks/sandbox_bench.py [--runs 40]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from reflexion_graph.evaluators import SandboxLimits, probe_isolation
from reflexion_graph.evaluators._sandbox import run_python

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


def sandboxed(source: str) -> float:
    started = time.perf_counter()
    result = run_python(source, PAYLOAD, SandboxLimits())
    assert '@@m@@{"passed": true}' in result.stdout, result.stderr
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    isolation = probe_isolation()
    source = PROGRAM
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder, "harness.py")
        script.write_text(source)
        plain(script, isolation.interpreter), sandboxed(source)  # warm caches
        plain_ms, sandbox_ms = [], []
        for _ in range(args.runs):  # interleaved, so drift hits both alike
            plain_ms.append(plain(script, isolation.interpreter))
            sandbox_ms.append(sandboxed(source))
    rows = {
        "plain_subprocess_ms": round(statistics.median(plain_ms), 2),
        "sandbox_ms": round(statistics.median(sandbox_ms), 2),
    }
    rows["ratio"] = round(rows["sandbox_ms"] / rows["plain_subprocess_ms"], 3)
    rows["isolation"] = {
        "bwrap": isolation.bwrap is not None,
        "user": isolation.user,
        "interpreter": isolation.interpreter,
        "missing": isolation.missing,
    }
    rows["runs"] = args.runs
    print(f"| per evaluation (median of {args.runs}) | ms |\n|---|---|")
    print(f"| plain subprocess.run | {rows['plain_subprocess_ms']} |")
    print(f"| sandbox (bwrap + limits + nobody) | {rows['sandbox_ms']} |")
    print(f"| ratio | {rows['ratio']}x (target <= 1.5x) |")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=2))
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
