"""Speed of the embedded model on this machine: generation and prompt tokens per second, and
what llama.cpp's prompt cache saves on a Reflexion retry (which repeats the first attempt's
system prompt and task as its prefix), cache on vs. off in the same run.

Prints a table and writes ``benchmarks/results/speed-<model>.json``.

    .venv/bin/python benchmarks/speed_bench.py [--model qwen2.5-coder-1.5b] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from openai import OpenAI

from reflexion_graph import prompts
from reflexion_graph._records import Attempt, make_evaluation, make_reflection
from reflexion_graph.actors._llm import build_messages
from reflexion_graph.actors._request import AttemptRequest
from reflexion_graph.bench import humaneval
from reflexion_graph.models import DEFAULT_MODEL, ModelSettings, start_embedded_server

RESULTS = Path(__file__).with_name("results")


def as_openai(messages: list[Any]) -> list[dict[str, str]]:
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    return [{"role": roles[m.type], "content": str(m.content)} for m in messages]


def call(client: OpenAI, alias: str, messages: list[dict[str, str]], cache: bool) -> dict[str, Any]:
    started = time.perf_counter()
    reply = client.chat.completions.create(
        model=alias,
        messages=messages,  # type: ignore[arg-type]
        max_tokens=128,
        temperature=0.0,
        extra_body={"cache_prompt": cache},
    )
    timings = (reply.model_extra or {}).get("timings", {})
    return {
        "seconds": time.perf_counter() - started,
        "prompt_tokens": reply.usage.prompt_tokens if reply.usage else 0,
        "cached_tokens": timings.get("cache_n", 0),
        "prompt_per_second": timings.get("prompt_per_second", 0.0),
        "predicted_per_second": timings.get("predicted_per_second", 0.0),
        "answer": reply.choices[0].message.content or "",
    }


def retry_messages(task: str, answer: str) -> list[dict[str, str]]:
    attempt = Attempt(
        number=1,
        answer=answer,
        evaluation=make_evaluation(False, feedback="failed: assert f(1) == 2 (expected 2, got 1)"),
    )
    lesson = make_reflection("Mistake: f(1) returned 1. Fix: return 2.", task=task, attempt=1)
    return as_openai(
        build_messages(
            prompts.CODE_ACTOR_SYSTEM_PROMPT,
            AttemptRequest(task=task, reflections=[lesson], last_attempt=attempt, number=2),
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    server = start_embedded_server(ModelSettings(embedded_model=args.model))
    client = OpenAI(base_url=server.base_url, api_key="not-needed")
    tasks = humaneval(lambda: None, feedback="oracle")[: args.repeats]  # type: ignore[arg-type,return-value]
    rows: dict[str, list[dict[str, Any]]] = {"first": [], "retry cached": [], "retry uncached": []}
    for task in tasks:
        first = as_openai(
            build_messages(prompts.CODE_ACTOR_SYSTEM_PROMPT, AttemptRequest(task=task.prompt))
        )
        rows["first"].append(result := call(client, server.alias, first, cache=True))
        retry = retry_messages(task.prompt, result["answer"])
        rows["retry cached"].append(call(client, server.alias, retry, cache=True))
        call(client, server.alias, first, cache=True)  # the slot holds the first prompt again
        rows["retry uncached"].append(call(client, server.alias, retry, cache=False))
    summary = {
        name: {
            key: round(statistics.median(r[key] for r in results), 2)
            for key in (
                "seconds",
                "prompt_tokens",
                "cached_tokens",
                "prompt_per_second",
                "predicted_per_second",
            )
        }
        for name, results in rows.items()
    }
    print(f"model {server.alias} · {args.repeats} HumanEval prompts · medians")
    print("| call | seconds | prompt tokens | cached | prompt tok/s | generated tok/s |")
    print("|---|---|---|---|---|---|")
    for name, row in summary.items():
        print(
            f"| {name} | {row['seconds']} | {row['prompt_tokens']} | {row['cached_tokens']} | "
            f"{row['prompt_per_second']} | {row['predicted_per_second']} |"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"speed-{args.model}.json"
    out.write_text(json.dumps({"model": server.alias, "medians": summary}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
