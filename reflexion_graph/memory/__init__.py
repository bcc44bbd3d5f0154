"""Long-term lesson memory: lessons recalled across tasks.

The contract (:class:`BaseLessonMemory`) and its implementations: Chroma (a folder or a
``chroma run`` server) and any LangGraph ``BaseStore`` (``reflexion_graph.stores.ChromaStore``
puts one on Chroma). The names these had before they said "lesson" still import, with a
``DeprecationWarning``.
"""

import warnings
from typing import Any

from reflexion_graph.memory._base import BaseLessonMemory
from reflexion_graph.memory._chroma import (
    DEFAULT_MEMORY_DIR,
    MEMORY_DIR_ENV,
    ChromaLessonMemory,
)
from reflexion_graph.memory._embeddings import MiniLMEmbeddings
from reflexion_graph.memory._history import LessonEvent
from reflexion_graph.memory._store import StoreLessonMemory

__all__ = [
    "DEFAULT_MEMORY_DIR",
    "MEMORY_DIR_ENV",
    "BaseLessonMemory",
    "ChromaLessonMemory",
    "LessonEvent",
    "MiniLMEmbeddings",
    "StoreLessonMemory",
]

_RENAMED = {
    "BaseReflectionMemory": "BaseLessonMemory",
    "ChromaReflectionMemory": "ChromaLessonMemory",
    "StoreReflectionMemory": "StoreLessonMemory",
}


def __getattr__(name: str) -> Any:
    """The earlier names: the memory's classes before they said "lesson", and ``ChromaStore``."""
    if name in _RENAMED:
        new = _RENAMED[name]
        warnings.warn(
            f"reflexion_graph.memory.{name} is now {new}", DeprecationWarning, stacklevel=2
        )
        return globals()[new]
    if name == "ChromaStore":
        from reflexion_graph.stores import ChromaStore

        warnings.warn(
            "ChromaStore moved to reflexion_graph.stores", DeprecationWarning, stacklevel=2
        )
        return ChromaStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
