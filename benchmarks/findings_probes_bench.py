"""What the findings tell on six conventions real codebases have, for answers written without.

Each case of ``benchmarks/data/finding_probes.toml`` holds an answer that ignores its
convention and the tests that hold it; the code on ``PYTHONPATH`` judges the answer, and the
findings it tells are printed beside the convention. Run it under two commits to compare:

    .venv/bin/python benchmarks/findings_probes_bench.py --out benchmarks/results/x-after.json
    PYTHONPATH=../bench-base .venv/bin/python benchmarks/findings_probes_bench.py --out ...

No model is called. Prints the findings and writes the JSON.
"""

from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path

from reflexion_graph.evaluators import CodeTestEvaluator

CASES = Path(__file__).with_name("data") / "finding_probes.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows = []
    for case in tomllib.loads(CASES.read_text())["case"]:
        function = case["answer"].split("(")[0].removeprefix("def ")
        evaluator = CodeTestEvaluator(case["tests"], entry_point=function)
        verdict = evaluator.evaluate(case["name"], f"```python\n{case['answer']}\n```")
        findings = list(verdict.get("findings") or [])
        rows.append({"case": case["name"], "convention": case["convention"], "findings": findings})
        print(f"{case['name']}: {case['convention']}")
        for finding in findings or ["(no finding)"]:
            print(f"    {finding}")
    args.out.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n")
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
