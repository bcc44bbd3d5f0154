"""A benchmark task: the prompt, what the loop may see, and the hidden final check."""

from __future__ import annotations

from dataclasses import dataclass

from reflexion_graph import prompts
from reflexion_graph.evaluators import BaseEvaluator


@dataclass(frozen=True)
class BenchTask:
    """One benchmark task: the prompt, the feedback evaluator, the hidden final evaluator."""

    id: str
    prompt: str
    feedback: BaseEvaluator
    final: BaseEvaluator
    system_prompt: str = prompts.ACTOR_SYSTEM_PROMPT
    """The actor's instructions, fitted to the dataset's answer format."""
    stop: tuple[str, ...] = ()
    """Where an answer is complete: generation stops there (as code-generation harnesses do)."""
    oracle_lesson: str = ""
    """What an oracle would recall for this task (the families' convention); only the
    ``oracle-lesson`` strategy shows it."""
