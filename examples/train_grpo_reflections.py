"""Train a model to write better reflections with TRL's GRPOTrainer (Reflect, Retry, Reward).

    reflexion-graph run --tasks tasks.jsonl --episodes episodes.jsonl     # collect episodes
    python examples/train_grpo_reflections.py episodes.jsonl tasks.jsonl MODEL_NAME_OR_PATH

Each training prompt is the exact prompt a reflection was written from after a failed first
attempt. The reward scores only the reflection: 1 when a retry that sees it passes the task's
evaluator, else 0 (binary, verifiable). Needs `pip install trl` and a GPU-sized model; the
test suite checks the dataset and the reward function, not the training.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from datasets import Dataset

from reflexion_graph import AttemptRequest, LLMActor, create_chat_model, make_reflection
from reflexion_graph.episodes import read_episodes
from reflexion_graph.tasks import load_tasks
from reflexion_graph.training import grpo_rows

Retry = Callable[[str, str], bool]
"""(task, reflection) -> did a retry that saw the reflection pass?"""


def build_dataset(episodes_path: str) -> Dataset:
    """The GRPO dataset: ``prompt`` plus the task, for the reward to retry on."""
    rows = [
        {"prompt": row["prompt"], "task": row["task"]}
        for row in grpo_rows(read_episodes(episodes_path))
    ]
    return Dataset.from_list(rows)


def make_reflection_reward(retry: Retry) -> Callable[..., list[float]]:
    """A GRPOTrainer reward function: 1.0 per completion whose retry passed, else 0.0."""

    def reflection_reward(
        prompts: list[Any], completions: list[Any], task: list[str], **kwargs: Any
    ) -> list[float]:
        texts = [c if isinstance(c, str) else c[-1]["content"] for c in completions]
        return [1.0 if retry(t, text) else 0.0 for t, text in zip(task, texts, strict=True)]

    return reflection_reward


def retry_with(tasks_path: str) -> Retry:
    """Retries on the configured model, judged by each task's own evaluator."""
    evaluators = {spec.task: spec.evaluator for spec in load_tasks(tasks_path)}
    actor = LLMActor(create_chat_model())

    def retry(task: str, reflection: str) -> bool:
        lesson = make_reflection(reflection, task=task, attempt=1)
        answer = actor.attempt(AttemptRequest(task=task, reflections=[lesson], number=2))
        return evaluators[task].evaluate(task, answer)["passed"]

    return retry


def main(episodes_path: str, tasks_path: str, model_name: str) -> None:
    from trl import GRPOConfig, GRPOTrainer

    trainer = GRPOTrainer(
        model=model_name,
        reward_funcs=make_reflection_reward(retry_with(tasks_path)),
        args=GRPOConfig(
            output_dir="grpo-reflections",
            num_generations=4,
            max_completion_length=128,
            per_device_train_batch_size=4,
        ),
        train_dataset=build_dataset(episodes_path),
    )
    trainer.train()


if __name__ == "__main__":
    main(*sys.argv[1:4])
