"""The retry after an answer in the wrong form: the library's retry against the general one.

Where an answer check finds no ``Answer:`` line (or code where a value was asked), the retry
ends with "Now reply with one line only: `Answer: <the value>`" instead of the general "Write a
corrected answer to the task, in the format the task asks for". This measures, paired, how
often each retry passes after a real failed first answer of that kind:

1. each value task's first attempt is sampled on ``--seeds`` seeds (the embedded model, or
   ``--base-url``); the answers whose verdict carries an answer-form finding are kept;
2. each kept answer is retried on ``--retries`` seeds with the library's prompt as built
   (``after``) and with the same prompt ending in the general line (``before``).

The demo's value task is the development slice (the prompt was chosen on it); the questions
of ``benchmarks/data/value_questions.jsonl`` are the report slice (written for this bench, not
tuned on). Prints a table and writes the JSON:

    .venv/bin/python benchmarks/answer_form_bench.py --out benchmarks/results/answer-form.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from langchain_openai import ChatOpenAI

from reflexion_graph import Attempt, AttemptRequest, prompts
from reflexion_graph._parsing import message_text
from reflexion_graph.actors._llm import build_messages
from reflexion_graph.bench._report import mcnemar_exact
from reflexion_graph.evaluators import ExactMatchEvaluator, RegexEvaluator
from reflexion_graph.models import ModelSettings, create_chat_model
from reflexion_graph.reflectors._llm import found_lesson
from reflexion_graph.tasks import TaskSpec, demo_tasks, load_tasks

QUESTIONS = Path(__file__).with_name("data") / "value_questions.jsonl"
FORM_FINDINGS = set(prompts.ANSWER_FORM_FINDINGS.values())
HEADER = (
    "| slice | value tasks | answers in the wrong form | retries | before | after "
    "| only after / only before | p |\n|---|---|---|---|---|---|---|---|"
)


def value_tasks() -> dict[str, list[TaskSpec]]:
    """The slices: the demo's value tasks (development) and the questions (report)."""
    is_value = (ExactMatchEvaluator, RegexEvaluator)
    return {
        "dev": [spec for spec in demo_tasks() if isinstance(spec.evaluator, is_value)],
        "report": load_tasks(QUESTIONS),
    }


def reply(model: ChatOpenAI, seed: int, messages: list[Any]) -> str:
    """The model's reply on ``seed``."""
    return message_text(model.model_copy(update={"seed": seed}).invoke(messages).content)


def run_task(model: ChatOpenAI, spec: TaskSpec, seeds: int, retries: int) -> list[dict[str, Any]]:
    """Each first answer in the wrong form, and how its retries fared under both last lines."""
    rows = []
    first_prompt = build_messages(prompts.ACTOR_SYSTEM_PROMPT, AttemptRequest(task=spec.task))
    for seed in range(seeds):
        first = reply(model, seed, first_prompt)
        verdict = spec.evaluator.evaluate(spec.task, first)
        if not FORM_FINDINGS & set(verdict.get("findings") or []):
            continue
        attempt = Attempt(number=1, answer=first, evaluation=verdict)
        request = AttemptRequest(
            task=spec.task, reflections=[found_lesson(spec.task, attempt)], last_attempt=attempt
        )
        after = build_messages(prompts.ACTOR_SYSTEM_PROMPT, request)
        text = after[-1].content
        assert isinstance(text, str) and text.endswith(prompts.ACTOR_RETRY_FORM_CLOSING)
        general = text.removesuffix(prompts.ACTOR_RETRY_FORM_CLOSING) + prompts.ACTOR_RETRY_CLOSING
        before = [*after[:-1], type(after[-1])(general)]
        for retry_seed in range(retries):
            row: dict[str, Any] = {"task": spec.id, "seed": seed, "retry_seed": retry_seed}
            for name, messages in (("before", before), ("after", after)):
                retried = reply(model, retry_seed, messages)
                row[name] = spec.evaluator.evaluate(spec.task, retried)["passed"]
            rows.append(row)
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Passes per last line, and the paired exact McNemar test."""
    only_after = sum(r["after"] and not r["before"] for r in rows)
    only_before = sum(r["before"] and not r["after"] for r in rows)
    return {
        "retries": len(rows),
        "answers": len({(r["task"], r["seed"]) for r in rows}),
        "tasks": len({r["task"] for r in rows}),
        "before": sum(r["before"] for r in rows),
        "after": sum(r["after"] for r in rows),
        "only_after": only_after,
        "only_before": only_before,
        "p": mcnemar_exact(only_after, only_before),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4, help="first attempts per task")
    parser.add_argument("--retries", type=int, default=5, help="retries per kept answer")
    parser.add_argument("--base-url", help="an OpenAI-compatible endpoint (default: embedded)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    model = create_chat_model(ModelSettings.from_env(base_url=args.base_url))
    started = time.perf_counter()
    result: dict[str, Any] = {"seeds": args.seeds, "retries": args.retries, "slices": {}}
    print(HEADER)
    for name, specs in value_tasks().items():
        rows = [row for spec in specs for row in run_task(model, spec, args.seeds, args.retries)]
        s = summary(rows)
        result["slices"][name] = {"value_tasks": len(specs), **s, "rows": rows}
        print(
            f"| {name} | {len(specs)} | {s['answers']} ({s['tasks']} tasks) | {s['retries']} "
            f"| {s['before']} | {s['after']} | {s['only_after']} / {s['only_before']} "
            f"| {s['p']:.3g} |",
            flush=True,
        )
    result["seconds"] = round(time.perf_counter() - started, 1)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"{result['seconds']} s; results: {args.out}")


if __name__ == "__main__":
    main()
