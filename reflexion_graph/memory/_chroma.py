"""Lessons in a Chroma collection: on disk by default, or on a ``chroma run`` server."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from reflexion_graph._memory import BaseReflectionMemory
from reflexion_graph._records import Reflection
from reflexion_graph.errors import ConfigurationError, MemoryBackendError
from reflexion_graph.memory._embeddings import MiniLMEmbeddings
from reflexion_graph.memory._lessons import (
    check_lessons,
    initial_counters,
    lesson_from_stored,
    now,
    rank,
    stored_metadata,
    usefulness,
)

logger = logging.getLogger(__name__)

DEFAULT_MEMORY_DIR = Path(".reflexion_graph") / "memory"
"""Where lessons live when no folder is given (relative to the working directory)."""
MEMORY_DIR_ENV = "REFLEXION_GRAPH_MEMORY_DIR"
DEFAULT_COLLECTION = "reflexion_lessons"
_CANDIDATES_PER_RESULT = 4
_MIN_CANDIDATES = 20
_PAGE = 1000


class ChromaReflectionMemory(BaseReflectionMemory):
    """Episodic lesson memory in Chroma, searched by similarity of tasks.

    Choose one client: ``path`` (a folder, ``PersistentClient``), ``host``/``port``
    (``HttpClient`` to a ``chroma run`` server) or ``client`` (any Chroma client). With none,
    the folder is ``$REFLEXION_GRAPH_MEMORY_DIR`` or ``./.reflexion_graph/memory``.

    Args:
        embeddings: Any LangChain ``Embeddings``; defaults to offline all-MiniLM-L6-v2.
        min_relevance: Cosine similarity of tasks below which a lesson is not recalled.
        duplicate_similarity: Lessons for related tasks whose texts are at least this similar
            are merged (count + latest wording) instead of stored twice.
        max_lessons_per_scope: Size cap; the least useful lessons are evicted beyond it.
    """

    def __init__(
        self,
        *,
        path: str | Path | None = None,
        host: str | None = None,
        port: int = 8000,
        client: Any = None,
        collection_name: str = DEFAULT_COLLECTION,
        embeddings: Embeddings | None = None,
        min_relevance: float = 0.35,
        duplicate_similarity: float = 0.9,
        max_lessons_per_scope: int | None = 10_000,
    ) -> None:
        chosen = [
            name
            for name, value in (("path", path), ("host", host), ("client", client))
            if value is not None
        ]
        if len(chosen) > 1:
            raise ConfigurationError(
                f"give one of path, host or client, not {' and '.join(chosen)}"
            )
        if max_lessons_per_scope is not None and max_lessons_per_scope < 1:
            raise ConfigurationError(
                f"max_lessons_per_scope must be >= 1 or None, got {max_lessons_per_scope!r}"
            )
        self.embeddings = embeddings or MiniLMEmbeddings()
        self.min_relevance = min_relevance
        self.duplicate_similarity = duplicate_similarity
        self.max_lessons_per_scope = max_lessons_per_scope
        self.location = self._describe(path, host, port, client)
        if client is None:
            client = (
                _http_client(host, port)
                if host
                else _persistent_client(
                    Path(path or os.environ.get(MEMORY_DIR_ENV) or DEFAULT_MEMORY_DIR)
                )
            )
        try:
            self.collection = client.get_or_create_collection(
                collection_name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
            )
        except Exception as error:
            raise MemoryBackendError(
                f"cannot open collection {collection_name!r} at {self.location}: {error}"
            ) from error

    # -- the memory contract -------------------------------------------------------------
    def search(self, task: str, *, k: int, scope: str) -> list[Reflection]:
        """The ``k`` most relevant lessons (similarity x usefulness) above ``min_relevance``."""
        if k <= 0 or not task.strip():
            return []
        vector = self.embeddings.embed_query(task)
        pool = max(k * _CANDIDATES_PER_RESULT, _MIN_CANDIDATES)
        with self._backend("search"):
            found = self.collection.query(
                query_embeddings=[vector],
                n_results=pool,
                where={"scope": scope},
                include=["documents", "metadatas", "distances"],
            )
        hits = []
        for lesson_id, text, metadata, distance in zip(
            found["ids"][0],
            found["documents"][0],
            found["metadatas"][0],
            found["distances"][0],
            strict=True,
        ):
            similarity = 1.0 - float(distance)
            if similarity < self.min_relevance:
                continue
            score = rank(similarity, int(metadata["recalls"]), int(metadata["helped"]))
            hits.append(
                lesson_from_stored(lesson_id, text, metadata, similarity=similarity, rank=score)
            )
        hits.sort(key=lambda lesson: -float(lesson["metadata"]["rank"]))
        return hits[:k]

    def save(self, reflections: Sequence[Reflection], *, scope: str) -> None:
        """Store finished lessons, merging near-duplicates, then enforce the size cap."""
        check_lessons(reflections, scope)
        if not reflections:
            return
        task_vectors = self.embeddings.embed_documents([r["task"] for r in reflections])
        for reflection, vector in zip(reflections, task_vectors, strict=True):
            duplicate = self._duplicate_of(reflection, vector, scope)
            if duplicate is None:
                with self._backend("save"):
                    self.collection.add(
                        ids=[reflection["id"]],
                        embeddings=[vector],
                        documents=[reflection["text"]],
                        metadatas=[
                            stored_metadata(reflection, scope, initial_counters(reflection))
                        ],
                    )
            else:
                self._merge(duplicate, reflection, vector, scope)
        self._evict(scope)

    def record_usage(self, ids: Sequence[str], *, passed: bool, scope: str) -> None:
        """Count a recall of each lesson, and a help when the run that used it passed."""
        if not ids:
            return
        with self._backend("update"):
            found = self.collection.get(ids=list(ids), include=["metadatas"])
        own = [
            (i, m)
            for i, m in zip(found["ids"], found["metadatas"], strict=True)
            if m.get("scope") == scope
        ]  # another scope's lessons are not ours to credit
        if not own:
            return
        updated = [
            {
                **m,
                "recalls": int(m["recalls"]) + 1,
                "helped": int(m["helped"]) + passed,
                "updated_at": now(),
            }
            for _, m in own
        ]
        with self._backend("update"):
            self.collection.update(ids=[i for i, _ in own], metadatas=updated)

    # -- management (CLI) ----------------------------------------------------------------
    def lessons(self, *, scope: str | None = None) -> Iterator[Reflection]:
        """Every stored lesson, optionally of one scope, page by page."""
        where = {"scope": scope} if scope else None
        offset = 0
        while True:
            with self._backend("read"):
                page = self.collection.get(
                    where=where, limit=_PAGE, offset=offset, include=["documents", "metadatas"]
                )
            for lesson_id, text, metadata in zip(
                page["ids"], page["documents"], page["metadatas"], strict=True
            ):
                yield lesson_from_stored(lesson_id, text, metadata)
            if len(page["ids"]) < _PAGE:
                return
            offset += _PAGE

    def delete(self, ids: Sequence[str]) -> None:
        """Remove lessons by id."""
        if ids:
            with self._backend("delete"):
                self.collection.delete(ids=list(ids))

    def count(self) -> int:
        """How many lessons are stored, in all scopes."""
        with self._backend("read"):
            return int(self.collection.count())

    # -- internals -----------------------------------------------------------------------
    def _duplicate_of(
        self, reflection: Reflection, task_vector: list[float], scope: str
    ) -> tuple[str, dict[str, Any]] | None:
        with self._backend("save"):
            near = self.collection.query(
                query_embeddings=[task_vector],
                n_results=5,
                where={"scope": scope},
                include=["documents", "metadatas", "distances"],
            )
        candidates = [
            (i, d, m)
            for i, d, m, dist in zip(
                near["ids"][0],
                near["documents"][0],
                near["metadatas"][0],
                near["distances"][0],
                strict=True,
            )
            if 1.0 - float(dist) >= self.min_relevance
        ]
        if not candidates:
            return None
        vectors = np.array(
            self.embeddings.embed_documents(
                [reflection["text"]] + [text for _, text, _ in candidates]
            )
        )
        similarities = vectors[1:] @ vectors[0]
        best = int(np.argmax(similarities))
        if similarities[best] < self.duplicate_similarity:
            return None
        return candidates[best][0], candidates[best][2]

    def _merge(
        self,
        duplicate: tuple[str, dict[str, Any]],
        reflection: Reflection,
        vector: list[float],
        scope: str,
    ) -> None:
        lesson_id, old = duplicate
        fresh = initial_counters(reflection)
        counters = {key: int(old.get(key, 0)) + fresh[key] for key in fresh}
        metadata = {**stored_metadata(reflection, scope, counters), "created_at": old["created_at"]}
        logger.debug("merging lesson %s into %s", reflection["id"], lesson_id)
        with self._backend("save"):
            self.collection.update(
                ids=[lesson_id],
                embeddings=[vector],
                documents=[reflection["text"]],
                metadatas=[metadata],
            )

    def _evict(self, scope: str) -> None:
        cap = self.max_lessons_per_scope
        if cap is None or self.count() <= cap:
            return
        with self._backend("evict"):
            stored = self.collection.get(where={"scope": scope}, include=["metadatas"])
        if len(stored["ids"]) <= cap:
            return
        by_value = sorted(
            zip(stored["ids"], stored["metadatas"], strict=True),
            key=lambda item: (
                usefulness(int(item[1]["recalls"]), int(item[1]["helped"])),
                str(item[1]["updated_at"]),
            ),
        )
        excess = [lesson_id for lesson_id, _ in by_value[: len(by_value) - cap]]
        logger.info("evicting %d least useful lessons from scope %r", len(excess), scope)
        self.delete(excess)

    @contextmanager
    def _backend(self, action: str) -> Iterator[None]:
        """Turn the client's own errors into :class:`MemoryBackendError` naming the place."""
        try:
            yield
        except (ConfigurationError, MemoryBackendError):
            raise
        except Exception as error:
            raise MemoryBackendError(
                f"memory {action} failed at {self.location}: {error}"
            ) from error

    @staticmethod
    def _describe(path: Any, host: str | None, port: int, client: Any) -> str:
        if client is not None:
            return f"client {type(client).__name__}"
        if host:
            return f"chroma server {host}:{port}"
        return f"folder {str(path or os.environ.get(MEMORY_DIR_ENV) or DEFAULT_MEMORY_DIR)!r}"


def _persistent_client(path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings

    if path.exists() and not path.is_dir():
        raise MemoryBackendError(f"memory folder {str(path)!r} is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(
            path=str(path), settings=Settings(anonymized_telemetry=False)
        )
    except Exception as error:
        raise MemoryBackendError(f"cannot open memory folder {str(path)!r}: {error}") from error


def _http_client(host: str, port: int) -> Any:
    import chromadb
    from chromadb.config import Settings

    try:
        return chromadb.HttpClient(
            host=host, port=port, settings=Settings(anonymized_telemetry=False)
        )
    except Exception as error:
        raise MemoryBackendError(
            f"cannot reach the chroma server at {host}:{port}: {error}"
        ) from error
