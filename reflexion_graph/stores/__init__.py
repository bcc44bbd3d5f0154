"""LangGraph stores: ``ChromaStore``, Chroma as a LangGraph ``BaseStore``.

A general store, not the lesson memory: LangGraph's own memory (LangMem's tools, a graph's
``store=``) and this library's lessons (``StoreLessonMemory(store)``) can share one Chroma.
"""

from reflexion_graph.stores._chroma_store import ChromaStore

__all__ = ["ChromaStore"]
