"""Long-term reflection memory: lessons recalled across tasks."""

from reflexion_graph.memory._chroma import (
    DEFAULT_MEMORY_DIR,
    MEMORY_DIR_ENV,
    ChromaReflectionMemory,
)
from reflexion_graph.memory._embeddings import MiniLMEmbeddings
from reflexion_graph.memory._store import StoreReflectionMemory

__all__ = [
    "DEFAULT_MEMORY_DIR",
    "MEMORY_DIR_ENV",
    "ChromaReflectionMemory",
    "MiniLMEmbeddings",
    "StoreReflectionMemory",
]
