"""Benchmarks of Reflexion against honest baselines (``reflexion-graph bench``)."""

from reflexion_graph.bench._datasets import BenchTask, countdown, humaneval, load_dataset
from reflexion_graph.bench._report import markdown, paired, plot, summary
from reflexion_graph.bench._runner import STRATEGIES, BenchRunner

__all__ = [
    "STRATEGIES",
    "BenchRunner",
    "BenchTask",
    "countdown",
    "humaneval",
    "load_dataset",
    "markdown",
    "paired",
    "plot",
    "summary",
]
