"""How many lessons to recall (``recall_k``): own-family recall against other families' noise.

Replays a families run's memory offline: the tasks in the run's order, each later task (2 on)
searching the lessons stored on the tasks before it, with ``k`` = 1..5, through the real
:class:`ChromaLessonMemory` and MiniLM embeddings. A lesson stored on the same family is
the one that can carry the convention; one from another family is noise in the prompt. The
stored lessons are the run's own (written at ``recall_k=3``), so this measures retrieval, not
what a different ``k`` would have made the model write.

    .venv/bin/python benchmarks/recall_k_bench.py [--results RESULTS_FILE]

Tune on the dev split only. Prints a table and writes ``benchmarks/results/recall_k.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from reflexion_graph import Lesson, make_lesson
from reflexion_graph.bench import family_tasks
from reflexion_graph.bench._families import family_of, position_of
from reflexion_graph.memory import ChromaLessonMemory, MiniLMEmbeddings

RESULTS = Path(__file__).with_name("results") / "recall_k.json"
LANES = ("reflexion+memory", "reflexion+memory:every-failure")
KS = (1, 2, 3, 4, 5)


def replay(
    records: dict[str, dict[str, Any]], split: str | None, embeddings: MiniLMEmbeddings
) -> dict[int, dict[str, int]]:
    """Per ``k``: later tasks with an own-family lesson shown, and other families' lessons shown."""
    counts = {
        k: {"later": 0, "available": 0, "own": 0, "own_when_available": 0, "other": 0} for k in KS
    }
    with tempfile.TemporaryDirectory() as folder:
        memory = ChromaLessonMemory(path=folder, embeddings=embeddings, max_lessons_per_scope=None)
        stored_families: list[str] = []
        tasks = family_tasks(split)
        family_by_prompt = {task.prompt: family_of(task.id) for task in tasks}
        for task in tasks:
            record = records.get(task.id)
            if record is None:
                continue
            family = family_of(task.id)
            if position_of(task.id) > 1:
                available = family in stored_families
                for k in KS:
                    found = memory.search(task.prompt, k=k, scope="global")
                    origins = [family_by_prompt[lesson["task"]] for lesson in found]
                    own = family in origins
                    row = counts[k]
                    row["later"] += 1
                    row["available"] += available
                    row["own"] += own
                    row["own_when_available"] += own and available
                    row["other"] += sum(origin != family for origin in origins)
            lessons: list[Lesson] = []
            for text in record.get("stored") or []:
                lesson = make_lesson(text, task=task.prompt)
                lesson["recalls"] = lesson["helped"] = 1  # verified: its replay passed
                lessons.append(lesson)
            if lessons:
                memory.save(lessons, scope="global")
                stored_families.extend([family] * len(lessons))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--results",
        type=Path,
        nargs="+",
        default=[RESULTS.with_name("families-dev-seed1-v2-qwen.json")],
    )
    args = parser.parse_args()
    embeddings = MiniLMEmbeddings()
    rows = []
    for path in args.results:
        payload = json.loads(path.read_text())
        split = payload["config"]["dataset"].partition(":")[2] or None
        for lane in LANES:
            if lane not in payload["records"]:
                continue
            for k, row in replay(payload["records"][lane], split, embeddings).items():
                later, available = row["later"], row["available"]
                rows.append(
                    {
                        "results": path.name,
                        "memory": lane,
                        "k": k,
                        "later_tasks": later,
                        "own_family_shown": round(row["own"] / later, 3),
                        "own_family_shown_when_stored": round(
                            row["own_when_available"] / available, 3
                        )
                        if available
                        else None,
                        "other_family_lessons_per_task": round(row["other"] / later, 3),
                    }
                )
    print("| results | memory | k | later tasks | own family shown | other-family lessons / task |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['results']} | {row['memory']} | {row['k']} | {row['later_tasks']} | "
            f"{row['own_family_shown']:.2f} | {row['other_family_lessons_per_task']:.2f} |"
        )
    RESULTS.write_text(json.dumps({"rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
