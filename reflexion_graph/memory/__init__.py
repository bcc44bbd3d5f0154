"""Long-term reflection memory: lessons recalled across tasks.

The contract (:class:`BaseReflectionMemory`) and its implementations: Chroma (a folder or a
``chroma run`` server) and any LangGraph ``BaseStore`` — including :class:`ChromaStore`, Chroma
as a LangGraph store, so LangGraph's and this library's memories can share one Chroma.
"""

from reflexion_graph.memory._base import BaseReflectionMemory
from reflexion_graph.memory._chroma import (
    DEFAULT_MEMORY_DIR,
    MEMORY_DIR_ENV,
    ChromaReflectionMemory,
)
from reflexion_graph.memory._chroma_store import ChromaStore
from reflexion_graph.memory._embeddings import MiniLMEmbeddings
from reflexion_graph.memory._store import StoreReflectionMemory

__all__ = [
    "DEFAULT_MEMORY_DIR",
    "MEMORY_DIR_ENV",
    "BaseReflectionMemory",
    "ChromaReflectionMemory",
    "ChromaStore",
    "MiniLMEmbeddings",
    "StoreReflectionMemory",
]
