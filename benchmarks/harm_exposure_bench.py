"""Harm exposure: which tasks of another dataset would recall a lesson from a stored memory.

A memory filled on the task families can only hurt an unrelated task that recalls one of its
lessons. This opens a copy of each memory folder with the real :class:`ChromaLessonMemory`
(the library's relevance threshold, MiniLM embeddings) and searches it with every prompt of the
dataset as the graph recalls (``recall_k`` rules, ``recall_evidence`` evidence lessons). The
tasks that recall something are the harm slice a ``--memory-from`` bench run needs; the rest
cannot be affected. No model is called.

    .venv/bin/python benchmarks/harm_exposure_bench.py \
        --memory benchmarks/results/families-report-seed1-qwen.memory [--dataset humaneval]

Prints a table and writes ``benchmarks/results/harm_exposure.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from reflexion_graph import ReflexionContext
from reflexion_graph.bench import load_dataset
from reflexion_graph.loop._policy import recalled_lessons, search_width
from reflexion_graph.memory import ChromaLessonMemory, MiniLMEmbeddings

RESULTS = Path(__file__).with_name("results") / "harm_exposure.json"
SCOPE = "global"
"""The scope the bench's memory lanes store in."""


def _no_model() -> BaseChatModel:
    """The oracle feedback mode builds no model-backed evaluator: only prompts are read."""
    raise RuntimeError("harm exposure reads prompts only; no model is called")


def exposure(
    memory_folder: Path,
    prompts: dict[str, str],
    embeddings: MiniLMEmbeddings,
    context: ReflexionContext,
) -> dict[str, Any]:
    """The tasks whose prompt recalls a lesson from ``memory_folder``, and what they recall.

    Recall as the graph's: up to ``recall_k`` rules and ``recall_evidence`` evidence lessons.
    """
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "memory"
        shutil.copytree(memory_folder, copy)
        memory = ChromaLessonMemory(path=copy, embeddings=embeddings)
        recalled = {}
        for task_id, prompt in prompts.items():
            found = memory.search(prompt, k=search_width(context), scope=SCOPE)
            chosen = recalled_lessons(prompt, [], found, context)
            recalled[task_id] = [lesson["text"] for lesson in chosen]
        stored = memory.count(scope=SCOPE)
    exposed = {task_id: texts for task_id, texts in recalled.items() if texts}
    return {
        "memory": memory_folder.name,
        "stored_lessons": stored,
        "tasks": len(prompts),
        "exposed_tasks": len(exposed),
        "recalled": exposed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", type=Path, nargs="+", required=True)
    parser.add_argument("--dataset", default="humaneval", help="humaneval or countdown")
    parser.add_argument("--recall-k", type=int, default=ReflexionContext().recall_k)
    parser.add_argument("--recall-evidence", type=int, default=ReflexionContext().recall_evidence)
    args = parser.parse_args()
    for folder in args.memory:
        if not (folder / "chroma.sqlite3").is_file():
            parser.error(f"--memory {str(folder)!r} is not a Chroma memory folder")
    tasks = load_dataset(args.dataset, _no_model, feedback="oracle", seed=0)
    prompts = {task.id: task.prompt for task in tasks}
    embeddings = MiniLMEmbeddings()
    context = ReflexionContext(recall_k=args.recall_k, recall_evidence=args.recall_evidence)
    rows = [exposure(folder, prompts, embeddings, context) for folder in args.memory]
    print("| memory | stored lessons | tasks | tasks recalling a lesson |")
    print("|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['memory']} | {row['stored_lessons']} | {row['tasks']} | "
            f"{row['exposed_tasks']} |"
        )
    payload = {
        "dataset": args.dataset,
        "recall_k": args.recall_k,
        "recall_evidence": args.recall_evidence,
        "rows": rows,
    }
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
