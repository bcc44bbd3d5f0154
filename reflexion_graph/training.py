"""Training data from episodes, in TRL's column conventions (``datasets.load_dataset("json")``).

- :func:`grpo_rows` (Reflect, Retry, Reward): the prompt a reflection was written from, the
  reflection, and a reward of 1 only when the retry that used it succeeded; episodes whose
  first attempt failed only.
- :func:`dpo_rows` (RLRF): the task as prompt, the refined attempt that scored higher as
  ``chosen``, the earlier attempt as ``rejected``; by overall score, or per aspect.
- :func:`sft_rows`: reflections that led to a pass, as prompt/completion pairs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from reflexion_graph._records import Attempt
from reflexion_graph.episodes import Episode

Row = dict[str, Any]


def grpo_rows(episodes: Iterable[Episode]) -> Iterator[Row]:
    """One row per reflection written after a failed first attempt."""
    for episode in episodes:
        attempts = {a["number"]: a for a in episode["attempts"]}
        if not attempts or attempts[min(attempts)]["evaluation"]["passed"]:
            continue
        for reflection in episode["reflections"]:
            failed, retry = (
                attempts.get(reflection["attempt"]),
                attempts.get(reflection["attempt"] + 1),
            )
            if failed is None or retry is None or not reflection["prompt"]:
                continue
            yield {
                "prompt": reflection["prompt"],
                "completion": reflection["text"],
                "reward": 1.0 if retry["evaluation"]["passed"] else 0.0,
                "task": episode["task"],
                "failed_answer": failed["answer"],
                "feedback": failed["evaluation"]["feedback"],
                "model": episode["model"],
            }


def dpo_rows(episodes: Iterable[Episode], *, per_aspect: bool = False) -> Iterator[Row]:
    """Refined-vs-earlier preference pairs: each later attempt that beat an earlier one.

    With ``per_aspect``, a pair needs the later attempt to be at least as good on every aspect
    both were rated on and better on one (RLRF's fine-grained preference); otherwise the
    overall score decides.
    """
    for episode in episodes:
        attempts = sorted(episode["attempts"], key=lambda a: a["number"])
        for index, later in enumerate(attempts):
            for earlier in attempts[:index]:
                if _prefers(later, earlier, per_aspect=per_aspect):
                    yield {
                        "prompt": episode["task"],
                        "chosen": later["answer"],
                        "rejected": earlier["answer"],
                        "score_chosen": later["evaluation"]["score"],
                        "score_rejected": earlier["evaluation"]["score"],
                        "model": episode["model"],
                    }


def sft_rows(episodes: Iterable[Episode]) -> Iterator[Row]:
    """Reflections after which the next attempt passed."""
    for episode in episodes:
        for reflection in episode["reflections"]:
            if reflection["outcome"] == "passed" and reflection["prompt"]:
                yield {
                    "prompt": reflection["prompt"],
                    "completion": reflection["text"],
                    "task": episode["task"],
                    "model": episode["model"],
                }


EXPORTS: dict[str, Callable[[Iterable[Episode]], Iterator[Row]]] = {
    "grpo": grpo_rows,
    "dpo": dpo_rows,
    "sft": sft_rows,
}
"""The export formats by name (CLI: ``reflexion-graph export FORMAT``)."""


def write_jsonl(rows: Iterable[Row], path: str | Path) -> int:
    """Write rows as JSONL; returns how many."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def _prefers(later: Attempt, earlier: Attempt, *, per_aspect: bool) -> bool:
    new, old = later["evaluation"], earlier["evaluation"]
    if not per_aspect:
        return new["score"] > old["score"]
    shared = set(new["aspects"]) & set(old["aspects"])
    if not shared:
        return new["score"] > old["score"]
    deltas = [new["aspects"][name] - old["aspects"][name] for name in shared]
    return min(deltas) >= 0 and max(deltas) > 0
