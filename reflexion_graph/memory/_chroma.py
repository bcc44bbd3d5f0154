"""Lessons in a Chroma collection: on disk by default, or on a ``chroma run`` server."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from reflexion_graph._records import Lesson, is_evidence
from reflexion_graph.errors import ConfigurationError, MemoryBackendError
from reflexion_graph.memory._base import BaseLessonMemory
from reflexion_graph.memory._embeddings import MiniLMEmbeddings, QueryVectors
from reflexion_graph.memory._history import (
    RUN,
    LessonEvent,
    decision_event,
    event_from_stored,
    flat_event,
    in_order,
    lesson_event,
    merge_event,
    person,
    retirements,
    store_event,
    unknown_lesson,
    usage_event,
)
from reflexion_graph.memory._lessons import (
    ANY_SIMILARITY,
    EVIDENCE_KEY,
    PENDING,
    REVIEW_KEY,
    STEP_KEY,
    USAGE_COUNTERS,
    Decision,
    best_lessons,
    check_lessons,
    decided,
    lesson_from_stored,
    stored_as_evidence,
    stored_metadata,
    usefulness,
)
from reflexion_graph.stores._chroma_query import query_nearest

logger = logging.getLogger(__name__)

DEFAULT_MEMORY_DIR = Path(".reflexion_graph") / "memory"
"""Where lessons live when no folder is given (relative to the working directory)."""
MEMORY_DIR_ENV = "REFLEXION_GRAPH_MEMORY_DIR"
DEFAULT_COLLECTION_PREFIX = "reflexion_lessons"
_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]{1,58}[a-zA-Z0-9]")
_CANDIDATES_PER_RESULT = 4
_MIN_CANDIDATES = 20
_PAGE = 1000


class ChromaLessonMemory(BaseLessonMemory):
    """Episodic lesson memory in Chroma, searched by similarity of tasks.

    Each scope (tenant, user, task family) is its own collection, so one scope never sees
    another's lessons and a search needs no metadata filter.

    Choose one client: ``path`` (a folder, ``PersistentClient``), ``host``/``port``
    (``HttpClient`` to a ``chroma run`` server) or ``client`` (any Chroma client). With none,
    the folder is ``$REFLEXION_GRAPH_MEMORY_DIR`` or ``./.reflexion_graph/memory``.

    Args:
        collection_prefix: Collections are named ``{collection_prefix}--{scope}``.
        embeddings: Any LangChain ``Embeddings``; defaults to offline all-MiniLM-L6-v2.
        min_relevance: Cosine similarity of tasks below which a lesson is not recalled.
        duplicate_similarity: Lessons for related tasks whose texts are at least this similar,
            or that share their failed check, are merged (their counts add up; the stored
            wording stays) instead of stored twice.
        max_lessons_per_scope: Size cap; the least useful lessons are evicted beyond it.
        review: Store new lessons as pending: kept with all they were learnt from, never
            recalled until approved (:meth:`approve`; :meth:`reject` keeps one, never recalled).
    """

    def __init__(
        self,
        *,
        path: str | Path | None = None,
        host: str | None = None,
        port: int = 8000,
        client: Any = None,
        collection_prefix: str = DEFAULT_COLLECTION_PREFIX,
        embeddings: Embeddings | None = None,
        min_relevance: float = 0.55,
        duplicate_similarity: float = 0.9,
        max_lessons_per_scope: int | None = 10_000,
        review: bool = False,
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
        if not _NAME.fullmatch(collection_prefix):
            raise ConfigurationError(
                f"collection_prefix must be 3-60 letters, digits, '.', '_' or '-', "
                f"got {collection_prefix!r}"
            )
        self.embeddings = embeddings or MiniLMEmbeddings()
        self._queries = QueryVectors(self.embeddings)
        self.collection_prefix = collection_prefix
        self.min_relevance = min_relevance
        self.duplicate_similarity = duplicate_similarity
        self.max_lessons_per_scope = max_lessons_per_scope
        self.review = review
        self.location = self._describe(path, host, port, client)
        if client is None:
            client = (
                _http_client(host, port)
                if host
                else _persistent_client(
                    Path(path or os.environ.get(MEMORY_DIR_ENV) or DEFAULT_MEMORY_DIR)
                )
            )
        self.client = client
        self._collections: dict[str, Any] = {}

    # -- the memory contract -------------------------------------------------------------
    def search(self, task: str, *, k: int, scope: str) -> list[Lesson]:
        """The ``k`` most relevant lessons (similarity x usefulness) above ``min_relevance``."""
        return self._best(task, k, scope, min_relevance=self.min_relevance)

    def search_by_step(
        self, task: str, steps: Sequence[str], *, k: int, scope: str
    ) -> list[Lesson]:
        """Up to ``k`` lessons blamed on one of ``steps``, at any similarity to ``task``."""
        if not steps:
            return []
        where = {STEP_KEY: {"$in": list(steps)}}
        return self._best(task, k, scope, min_relevance=ANY_SIMILARITY, where=where)

    def save(self, lessons: Sequence[Lesson], *, scope: str) -> int:
        """Store finished lessons, merging near-duplicates, then enforce the size cap.

        Saving is idempotent: a lesson whose id is stored already is skipped, and a merge is
        counted once (its event id derives from the lesson's), so a run resumed after a crash
        that replays its last step stores nothing twice. Returns how many lessons it added.
        """
        check_lessons(lessons, scope)
        if not lessons:
            return 0
        collection = self.collection_for(scope)
        with self._backend("save"):
            stored = set(collection.get(ids=[r["id"] for r in lessons], include=[])["ids"])
        lessons = [lesson for lesson in lessons if lesson["id"] not in stored]
        if not lessons:
            return 0
        added = 0
        task_vectors = self.embeddings.embed_documents([lesson["task"] for lesson in lessons])
        for lesson, vector in zip(lessons, task_vectors, strict=True):
            duplicate = self._duplicate_of(lesson, vector, scope)
            if duplicate is None:
                with self._backend("save"):
                    collection.add(
                        ids=[lesson["id"]],
                        embeddings=[vector],
                        documents=[lesson["text"]],
                        metadatas=[stored_metadata(lesson, scope, pending=self.review)],
                    )
                self._append_events(scope, [store_event(lesson, pending=self.review)])
                added += 1
            else:
                self._merge(duplicate, lesson, scope)
        self._evict(scope)
        return added

    def record_usage(self, ids: Sequence[str], *, passed: bool, scope: str) -> None:
        """Count a recall of each lesson, and a help when the run that used it passed.

        Each count is an event appended to the scope's usage collection and summed when read,
        so workers crediting the same lesson at once never overwrite each other's counts.
        """
        if not ids:
            return
        with self._backend("update"):
            found = self.collection_for(scope).get(ids=list(ids), include=["metadatas"])
        self._append_events(scope, [usage_event(lesson_id, passed) for lesson_id in found["ids"]])
        totals = self._with_usage(scope, list(zip(found["ids"], found["metadatas"], strict=True)))
        self._append_events(scope, retirements(totals))

    # -- review and history ------------------------------------------------------------------
    def pending(self, *, scope: str) -> list[Lesson]:
        """The lessons of ``scope`` waiting for review, oldest first."""
        with self._backend("read"):
            found = self.collection_for(scope).get(
                where={REVIEW_KEY: PENDING}, include=["documents", "metadatas"]
            )
        totals = self._with_usage(scope, list(zip(found["ids"], found["metadatas"], strict=True)))
        lessons = [
            lesson_from_stored(lesson_id, text, totals[lesson_id])
            for lesson_id, text in zip(found["ids"], found["documents"], strict=True)
        ]
        waiting = [lesson for lesson in lessons if lesson.get("state") == "pending"]
        return sorted(waiting, key=lambda lesson: lesson["created_at"])

    def decide(
        self,
        ids: Sequence[str],
        decision: Decision,
        *,
        scope: str,
        by: str | None = None,
        reason: str = "",
    ) -> None:
        """Apply a person's decision to every lesson of ``ids`` (or, on a bad id, to none)."""
        stored = self._stored(ids, scope)
        totals = self._with_usage(scope, list(stored.items()))
        changes = {i: decided(i, totals[i], decision) for i in stored}  # all checked first
        changed = {i: change for i, change in changes.items() if change is not None}
        if not changed:
            return
        with self._backend("update"):
            self.collection_for(scope).update(
                ids=list(changed),
                metadatas=[{**stored[i], **change} for i, change in changed.items()],
            )
        who = by or person()
        self._append_events(
            scope, [decision_event(i, decision, by=who, reason=reason) for i in changed]
        )

    def purge(
        self, ids: Sequence[str], *, scope: str, by: str | None = None, reason: str = ""
    ) -> None:
        """Delete lessons for good; their history stays, ending with the purge."""
        stored = self._stored(ids, scope)
        if not stored:
            return
        with self._backend("delete"):
            self.collection_for(scope).delete(ids=list(stored))
        who = by or person()
        self._append_events(
            scope, [lesson_event(i, "purged", by=who, reason=reason) for i in stored]
        )

    def history(self, *, scope: str, lesson_id: str | None = None) -> list[LessonEvent]:
        """Every change to the lessons of ``scope`` (or to one), oldest first."""
        if scope not in self.scopes():
            raise ConfigurationError(f"no scope {scope!r} in the memory at {self.location}")
        where = {"lesson": lesson_id} if lesson_id else None
        with self._backend("read"):
            found = self.usage_collection_for(scope).get(where=where, include=["metadatas"])
        if lesson_id and not found["ids"]:
            self._stored([lesson_id], scope)  # one stored before the history has no events
        return in_order(
            [
                event_from_stored(event_id, metadata)
                for event_id, metadata in zip(found["ids"], found["metadatas"], strict=True)
            ]
        )

    # -- management (CLI) ----------------------------------------------------------------
    def scopes(self) -> list[str]:
        """The scopes that have a collection."""
        with self._backend("read"):
            collections = self.client.list_collections()
        prefix = self.collection_prefix + "--"
        return sorted(
            str((c.metadata or {}).get("scope", c.name[len(prefix) :]))
            for c in collections
            if c.name.startswith(prefix)
        )

    def lessons(self, *, scope: str | None = None) -> Iterator[Lesson]:
        """Every stored lesson, of one scope or of all, page by page."""
        for name in [scope] if scope else self.scopes():
            collection = self.collection_for(name)
            offset = 0
            while True:
                with self._backend("read"):
                    page = collection.get(
                        limit=_PAGE, offset=offset, include=["documents", "metadatas"]
                    )
                totals = self._with_usage(
                    name, list(zip(page["ids"], page["metadatas"], strict=True))
                )
                for lesson_id, text in zip(page["ids"], page["documents"], strict=True):
                    yield lesson_from_stored(lesson_id, text, totals[lesson_id])
                if len(page["ids"]) < _PAGE:
                    break
                offset += _PAGE

    def count(self, *, scope: str | None = None) -> int:
        """How many lessons are stored, in one scope or in all."""
        with self._backend("read"):
            return sum(
                int(self.collection_for(name).count())
                for name in ([scope] if scope else self.scopes())
            )

    def collection_for(self, scope: str) -> Any:
        """The Chroma collection that holds ``scope``'s lessons (created on first use)."""
        collection = self._collections.get(scope)
        if collection is None:
            name = f"{self.collection_prefix}--{_collection_suffix(scope)}"
            with self._backend(f"open collection {name!r} for"):
                collection = self.client.get_or_create_collection(
                    name,
                    embedding_function=None,
                    metadata={"scope": scope},
                    configuration={"hnsw": {"space": "cosine"}},
                )
            self._collections[scope] = collection
        return collection

    def usage_collection_for(self, scope: str) -> Any:
        """The append-only usage events of ``scope``'s lessons (created on first use)."""
        key = f"usage:{scope}"
        collection = self._collections.get(key)
        if collection is None:
            name = f"{self.collection_prefix}-usage--{_collection_suffix(scope)}"
            with self._backend(f"open collection {name!r} for"):
                collection = self.client.get_or_create_collection(
                    name, embedding_function=None, metadata={"scope": scope}
                )
            self._collections[key] = collection
        return collection

    # -- internals -----------------------------------------------------------------------
    def _best(
        self,
        task: str,
        k: int,
        scope: str,
        *,
        min_relevance: float,
        where: dict[str, Any] | None = None,
    ) -> list[Lesson]:
        """The ``k`` best of the lessons nearest to ``task`` (matching ``where``), ranked."""
        if k <= 0 or not task.strip():
            return []
        vector = self._queries.vector(task)
        pool = max(k * _CANDIDATES_PER_RESULT, _MIN_CANDIDATES)
        nearest = self._nearest(vector, pool, scope, where)
        totals = self._with_usage(scope, [(lesson_id, meta) for lesson_id, _, meta, _ in nearest])
        counted = [
            (lesson_id, text, totals[lesson_id], similarity)
            for lesson_id, text, _, similarity in nearest
        ]
        return best_lessons(counted, min_relevance=min_relevance, k=k)

    def _stored(self, ids: Sequence[str], scope: str) -> dict[str, dict[str, Any]]:
        """The stored metadata of every lesson of ``ids`` (an unknown one: an error naming it)."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        with self._backend("read"):
            found = self.collection_for(scope).get(ids=ids, include=["metadatas"])
        stored = dict(zip(found["ids"], found["metadatas"], strict=True))
        for lesson_id in ids:
            if lesson_id not in stored:
                raise ConfigurationError(self._unknown(lesson_id, scope))
        return stored

    def _unknown(self, lesson_id: str, scope: str) -> str:
        """Why ``lesson_id`` is not in ``scope``: never stored there, or purged (and when)."""
        with self._backend("read"):
            found = self.usage_collection_for(scope).get(
                where={"$and": [{"lesson": lesson_id}, {"kind": "purged"}]},
                include=["metadatas"],
            )
        purges = zip(found["ids"], found["metadatas"], strict=True)
        purged = next((event_from_stored(i, meta) for i, meta in purges), None)
        return unknown_lesson(lesson_id, scope, purged)

    def _append_events(self, scope: str, events: Sequence[LessonEvent]) -> None:
        """Append events to the scope's history; one whose id is kept already is ignored."""
        if not events:
            return
        with self._backend("update"):
            self.usage_collection_for(scope).add(
                ids=[event["id"] for event in events],
                embeddings=[[1.0]] * len(events),
                metadatas=[flat_event(event) for event in events],
            )

    def _with_usage(
        self, scope: str, stored: list[tuple[str, Mapping[str, Any]]]
    ) -> dict[str, dict[str, Any]]:
        """Each lesson's metadata with its usage events added to its stored counters."""
        totals = {lesson_id: dict(metadata) for lesson_id, metadata in stored}
        if not totals:
            return totals
        with self._backend("read"):
            events = self.usage_collection_for(scope).get(
                where={"lesson": {"$in": list(totals)}}, include=["metadatas"]
            )
        for event in events["metadatas"]:
            counters = totals.get(str(event["lesson"]))
            if counters is not None:
                for key in USAGE_COUNTERS:
                    counters[key] = int(counters.get(key, 0)) + int(event.get(key, 0))
        return totals

    def _nearest(
        self, vector: list[float], n: int, scope: str, where: dict[str, Any] | None = None
    ) -> list[tuple[str, str, dict[str, Any], float]]:
        """``(id, text, metadata, cosine similarity)`` of the ``n`` nearest lessons (``where``)."""
        with self._backend("search"):
            found = query_nearest(
                self.collection_for(scope),
                query_embeddings=[vector],
                n_results=n,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
        return [
            (lesson_id, text, metadata, 1.0 - float(distance))
            for lesson_id, text, metadata, distance in zip(
                found["ids"][0],
                found["documents"][0],
                found["metadatas"][0],
                found["distances"][0],
                strict=True,
            )
        ]

    def _duplicate_of(self, lesson: Lesson, task_vector: list[float], scope: str) -> str | None:
        """The stored lesson ``lesson`` repeats, if any.

        That is a related task's lesson of the same kind (a rule, or evidence) with the same
        failed check (evidence), or a rule with a text at least ``duplicate_similarity``
        alike. Evidence lessons merge only when their checks are the same.
        """
        kind = is_evidence(lesson)
        candidates = [
            (lesson_id, text, metadata)
            for lesson_id, text, metadata, similarity in self._nearest(task_vector, 5, scope)
            if similarity >= self.min_relevance and stored_as_evidence(metadata) == kind
        ]
        if not candidates:
            return None
        evidence = lesson["evidence"]
        for lesson_id, _, metadata in candidates:
            if evidence and metadata.get(EVIDENCE_KEY) == evidence:
                return lesson_id
        if kind:
            return None
        vectors = np.array(
            self.embeddings.embed_documents([lesson["text"]] + [text for _, text, _ in candidates])
        )
        similarities = vectors[1:] @ vectors[0]
        best = int(np.argmax(similarities))
        if similarities[best] < self.duplicate_similarity:
            return None
        return candidates[best][0]

    def _merge(self, lesson_id: str, lesson: Lesson, scope: str) -> None:
        """Count ``lesson`` on the stored one; the stored text and metadata stay as they are."""
        logger.debug("merging lesson %s into %s", lesson["id"], lesson_id)
        self._append_events(scope, [merge_event(lesson_id, lesson)])

    def _evict(self, scope: str) -> None:
        cap = self.max_lessons_per_scope
        collection = self.collection_for(scope)
        with self._backend("evict"):
            if cap is None or collection.count() <= cap:
                return
            stored = collection.get(include=["metadatas"])
        totals = self._with_usage(scope, list(zip(stored["ids"], stored["metadatas"], strict=True)))
        by_value = sorted(
            totals.items(),
            key=lambda item: (
                usefulness(int(item[1]["recalls"]), int(item[1]["helped"])),
                str(item[1]["updated_at"]),
            ),
        )
        excess = [lesson_id for lesson_id, _ in by_value[: len(by_value) - cap]]
        logger.info("evicting %d least useful lessons from scope %r", len(excess), scope)
        self.purge(excess, scope=scope, by=RUN, reason=f"over the cap of {cap} lessons")

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


def _collection_suffix(scope: str) -> str:
    """A collection-name-safe, collision-free form of ``scope``."""
    if _NAME.fullmatch(scope) and len(scope) <= 60:
        return scope
    readable = re.sub(r"[^a-zA-Z0-9._-]+", "-", scope).strip("-._")[:40] or "scope"
    return f"{readable}-{hashlib.sha256(scope.encode()).hexdigest()[:12]}"


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
