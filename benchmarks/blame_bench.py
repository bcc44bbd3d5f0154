"""Per-step blame on the embedded default model: does a lesson name the tool call that failed?

Four fixed failed attempts of a two-tool weather graph (``geocode`` then ``current_weather``),
each with a known culprit: the weather call's default units (kelvin), a wrong city looked up,
a weather call left failing with an error, and a right pair of calls with a wrong final reply
(culprit: no tool). Each is reflected on with several seeds by :class:`LLMReflector`, and the
blamed step compared with the culprit for: the library's blame (a tool left failing, else the
lesson's ``Step:`` line), the ``Step:`` line alone, and two baselines that read nothing: always
the first tool called, always the last.

    .venv/bin/python benchmarks/blame_bench.py [--seeds 8]

Starts the embedded default model (run nothing else on the model meanwhile). Prints a table
and writes ``benchmarks/results/blame.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage

from reflexion_graph import LLMReflector, make_evaluation
from reflexion_graph._records import Attempt
from reflexion_graph.actors._tools import attempt_result, tools_called
from reflexion_graph.models import ModelSettings, create_chat_model, start_embedded_server
from reflexion_graph.reflectors._blame import blamed_step, step_named

RESULTS = Path(__file__).with_name("results") / "blame.json"


def answered(name: str, args: dict[str, object], result: str, error: bool = False) -> list[Any]:
    """A call of tool ``name`` and the tool's answer, as the tool actor's graph records them."""
    call_id = f"{name}-{json.dumps(args)}"
    return [
        AIMessage("", tool_calls=[{"name": name, "args": args, "id": call_id}]),
        ToolMessage(
            result, name=name, tool_call_id=call_id, status="error" if error else "success"
        ),
    ]


PARIS = answered("geocode", {"city": "Paris"}, "48.85,2.35")
SCENARIOS = {  # name: (culprit, task, the attempt's messages, feedback)
    "kelvin default": (
        "current_weather",
        "What is the temperature in Paris now, in degrees Celsius?",
        [
            *PARIS,
            *answered("current_weather", {"lat": 48.85, "lon": 2.35}, "294.15"),
            AIMessage("Answer: 294.15"),
        ],
        "Expected 21.0 (degrees Celsius), got 294.15.",
    ),
    "wrong city": (
        "geocode",
        "What is the temperature in Oslo now, in degrees Celsius?",
        [
            *PARIS,
            *answered("current_weather", {"lat": 48.85, "lon": 2.35, "units": "metric"}, "21.0"),
            AIMessage("Answer: 21.0"),
        ],
        "Expected 4.0 (the temperature in Oslo), got 21.0.",
    ),
    "left failing": (
        "current_weather",
        "What is the temperature in Paris now, in degrees Celsius?",
        [
            *PARIS,
            *answered(
                "current_weather",
                {"lat": 48.85, "lon": 2.35, "units": "celsius"},
                "units must be 'standard' or 'metric'",
                error=True,
            ),
            AIMessage("Answer: unknown"),
        ],
        "Expected 21.0 (degrees Celsius), got no number.",
    ),
    "final reply": (
        "",
        "What is the temperature in Paris now, in degrees Celsius? Round to a whole degree.",
        [
            *PARIS,
            *answered("current_weather", {"lat": 48.85, "lon": 2.35, "units": "metric"}, "21.4"),
            AIMessage("Answer: 21.4"),
        ],
        "Expected 21, got 21.4.",
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    server = start_embedded_server(ModelSettings())
    rows, lessons = [], []
    try:
        for name, (culprit, task, messages, feedback) in SCENARIOS.items():
            made = attempt_result(messages)
            attempt = Attempt(
                number=1,
                answer=made.answer,
                evaluation=make_evaluation(False, feedback=feedback),
                steps=list(made.steps),
            )
            called = tools_called(made.steps)
            hits = {"library": 0, "step line": 0, "first tool": 0, "last tool": 0}
            for seed in range(1, args.seeds + 1):
                settings = ModelSettings(base_url=server.base_url, model=server.alias, seed=seed)
                text = LLMReflector(create_chat_model(settings)).reflect(task, attempt)["text"]
                lessons.append({"scenario": name, "seed": seed, "lesson": text})
                hits["library"] += blamed_step(text, made.steps) == culprit
                hits["step line"] += step_named(text, made.steps) == culprit
            hits["first tool"] = args.seeds * (called[0] == culprit)
            hits["last tool"] = args.seeds * (called[-1] == culprit)
            rows.append({"scenario": name, "culprit": culprit or "(final reply)", **hits})
            print(rows[-1], flush=True)
    finally:
        server.stop()
    methods = ["library", "step line", "first tool", "last tool"]
    totals = {m: sum(int(row[m]) for row in rows) for m in methods}
    print(f"\nright blame out of {args.seeds} seeds, {server.alias}")
    print("| scenario | culprit | " + " | ".join(methods) + " |")
    print("|---|---|" + "---|" * len(methods))
    for row in rows:
        print(
            f"| {row['scenario']} | {row['culprit']} | "
            + " | ".join(str(row[m]) for m in methods)
            + " |"
        )
    total = len(rows) * args.seeds
    print("| all | | " + " | ".join(f"{totals[m]}/{total}" for m in methods) + " |")
    RESULTS.write_text(
        json.dumps(
            {"model": server.alias, "seeds": args.seeds, "rows": rows, "lessons": lessons},
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
