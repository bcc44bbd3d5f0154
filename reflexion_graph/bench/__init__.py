"""Benchmarks of Reflexion against honest baselines (``reflexion-graph bench``)."""

import warnings

from reflexion_graph.bench._datasets import countdown, humaneval, load_dataset
from reflexion_graph.bench._families import family_tasks, load_families
from reflexion_graph.bench._report import (
    paired_rows,
    plot_success,
    results_markdown,
    summary_rows,
)
from reflexion_graph.bench._runner import DEFAULT_STRATEGIES, STRATEGIES, BenchRunner
from reflexion_graph.bench._task import BenchTask
from reflexion_graph.bench._transfer import transfer_markdown

_RENAMED = {
    "markdown": "results_markdown",
    "paired": "paired_rows",
    "plot": "plot_success",
    "summary": "summary_rows",
}
"""Names this package exported before, still importable with a warning."""


def __getattr__(name: str) -> object:
    if name in _RENAMED:
        warnings.warn(
            f"reflexion_graph.bench.{name} is deprecated: use {_RENAMED[name]}",
            DeprecationWarning,
            stacklevel=2,
        )
        return globals()[_RENAMED[name]]
    raise AttributeError(f"module 'reflexion_graph.bench' has no attribute {name!r}")


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
    "paired_rows",
    "plot_success",
    "results_markdown",
    "summary_rows",
    "transfer_markdown",
]
