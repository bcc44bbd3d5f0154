"""Benchmarks of Reflexion against honest baselines (``reflexion-graph bench``)."""

from reflexion_graph.bench._datasets import countdown, humaneval, load_dataset
from reflexion_graph.bench._families import family_tasks, load_families
from reflexion_graph.bench._report import markdown, paired, plot, summary
from reflexion_graph.bench._runner import DEFAULT_STRATEGIES, STRATEGIES, BenchRunner
from reflexion_graph.bench._task import BenchTask
from reflexion_graph.bench._transfer import transfer_markdown

__all__ = [
    "DEFAULT_STRATEGIES",
    "STRATEGIES",
    "BenchRunner",
    "BenchTask",
    "countdown",
    "family_tasks",
    "humaneval",
    "load_dataset",
    "load_families",
    "markdown",
    "paired",
    "plot",
    "summary",
    "transfer_markdown",
]
