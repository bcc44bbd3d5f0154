"""Lessons in a LangGraph ``BaseStore``: the memory to use inside ``langgraph dev`` / Server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langgraph.config import get_store
from langgraph.store.base import BaseStore

from reflexion_graph._records import Lesson
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.memory._base import BaseLessonMemory
from reflexion_graph.memory._history import (
    LessonEvent,
    decision_event,
    event_from_stored,
    flat_event,
    in_order,
    lesson_event,
    person,
    retirements,
    store_event,
    unknown_lesson,
    usage_event,
)
from reflexion_graph.memory._lessons import (
    ANY_SIMILARITY,
    PENDING,
    REVIEW_KEY,
    STEP_KEY,
    Candidate,
    Decision,
    best_lessons,
    check_lessons,
    decided,
    lesson_from_stored,
    now,
    stored_metadata,
)

DEFAULT_NAMESPACE = ("reflexion", "lessons")
_INDEXED_FIELDS = ["task"]
_CANDIDATES = 20
_PAGE = 1_000
"""Pending lessons and history events are read this many at a time."""


class StoreLessonMemory(BaseLessonMemory):
    """Lessons as store items under ``(*namespace, scope)``, searched by task similarity.

    Without a ``store``, the graph's own store is used (``graph.compile(store=...)``, or the
    one LangGraph Server provides). The store needs a semantic ``index`` (embeddings); items
    index their ``task`` field. Near-duplicate merging and eviction are left to the store's
    own tooling (TTL); :class:`ChromaLessonMemory` does both.
    """

    def __init__(
        self,
        store: BaseStore | None = None,
        *,
        namespace: tuple[str, ...] = DEFAULT_NAMESPACE,
        min_relevance: float = 0.55,
        review: bool = False,
    ) -> None:
        self.store = store
        self.namespace = namespace
        self.min_relevance = min_relevance
        self.review = review
        """Store new lessons as pending: never recalled until approved."""

    def search(self, task: str, *, k: int, scope: str) -> list[Lesson]:
        """The ``k`` most relevant lessons (similarity x usefulness) above ``min_relevance``."""
        if k <= 0 or not task.strip():
            return []
        candidates = self._candidates(task, k, scope)
        return best_lessons(candidates, min_relevance=self.min_relevance, k=k)

    def search_by_step(
        self, task: str, steps: Sequence[str], *, k: int, scope: str
    ) -> list[Lesson]:
        """Up to ``k`` lessons blamed on one of ``steps``, at any similarity to ``task``."""
        if k <= 0 or not steps or not task.strip():
            return []
        candidates = [
            candidate
            for step in dict.fromkeys(steps)  # a store filter has no "$in": one search per step
            for candidate in self._candidates(task, k, scope, {STEP_KEY: step})
        ]
        return best_lessons(candidates, min_relevance=ANY_SIMILARITY, k=k)

    def save(self, lessons: Sequence[Lesson], *, scope: str) -> int:
        """Store lessons (validated as a batch first); how many it added.

        A lesson whose id is stored already is skipped: its counts are kept, so a replayed
        step stores nothing twice.
        """
        check_lessons(lessons, scope)
        store = self._store()
        added = 0
        for lesson in lessons:
            if store.get((*self.namespace, scope), lesson["id"]) is not None:
                continue
            value = {"text": lesson["text"], **stored_metadata(lesson, scope, pending=self.review)}
            store.put((*self.namespace, scope), lesson["id"], value, index=_INDEXED_FIELDS)
            self._append_events(scope, [store_event(lesson, pending=self.review)])
            added += 1
        return added

    def record_usage(self, ids: Sequence[str], *, passed: bool, scope: str) -> None:
        """Count a recall of each lesson, and a help when the run that used it passed."""
        store = self._store()
        for lesson_id in ids:
            item = store.get((*self.namespace, scope), lesson_id)
            if item is None:  # not this scope's lesson
                continue
            value: dict[str, Any] = {
                **item.value,
                "recalls": int(item.value["recalls"]) + 1,
                "helped": int(item.value["helped"]) + passed,
                "updated_at": now(),
            }
            store.put((*self.namespace, scope), lesson_id, value, index=_INDEXED_FIELDS)
            self._append_events(
                scope, [usage_event(lesson_id, passed), *retirements({lesson_id: value})]
            )

    def pending(self, *, scope: str) -> list[Lesson]:
        """The lessons of ``scope`` waiting for review, oldest first."""
        items = self._store().search(
            (*self.namespace, scope), filter={REVIEW_KEY: PENDING}, limit=_PAGE
        )
        lessons = [lesson_from_stored(i.key, i.value["text"], i.value) for i in items]
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
        store, namespace = self._store(), (*self.namespace, scope)
        values = self._stored(ids, scope)
        changes = {i: decided(i, value, decision) for i, value in values.items()}  # all checked
        who = by or person()
        for lesson_id, change in changes.items():
            if change is not None:
                value = {**values[lesson_id], **change}
                store.put(namespace, lesson_id, value, index=_INDEXED_FIELDS)
                event = decision_event(lesson_id, decision, by=who, reason=reason)
                self._append_events(scope, [event])

    def purge(
        self, ids: Sequence[str], *, scope: str, by: str | None = None, reason: str = ""
    ) -> None:
        """Delete lessons for good; their history stays, ending with the purge."""
        store, who = self._store(), by or person()
        for lesson_id in self._stored(ids, scope):
            store.delete((*self.namespace, scope), lesson_id)
            self._append_events(scope, [lesson_event(lesson_id, "purged", by=who, reason=reason)])

    def history(self, *, scope: str, lesson_id: str | None = None) -> list[LessonEvent]:
        """Every change to the lessons of ``scope`` (or to one), oldest first."""
        store, namespace = self._store(), self._events_namespace(scope)
        where = {"lesson": lesson_id} if lesson_id else None
        events: list[LessonEvent] = []
        while page := store.search(namespace, filter=where, limit=_PAGE, offset=len(events)):
            events.extend(event_from_stored(item.key, item.value) for item in page)
        if not events:  # a lesson stored before the history has none
            if not store.search((*self.namespace, scope), limit=1):
                raise ConfigurationError(f"no scope {scope!r} in the store under {self.namespace}")
            if lesson_id:
                self._stored([lesson_id], scope)
        return in_order(events)

    def _stored(self, ids: Sequence[str], scope: str) -> dict[str, dict[str, Any]]:
        """The stored value of every lesson of ``ids`` (an unknown one: an error naming it)."""
        store, namespace = self._store(), (*self.namespace, scope)
        values = {}
        for lesson_id in ids:
            item = store.get(namespace, lesson_id)
            if item is None:
                purged = store.search(
                    self._events_namespace(scope),
                    filter={"lesson": lesson_id, "kind": "purged"},
                    limit=1,
                )
                found = event_from_stored(purged[0].key, purged[0].value) if purged else None
                raise ConfigurationError(unknown_lesson(lesson_id, scope, found))
            values[lesson_id] = dict(item.value)
        return values

    def _append_events(self, scope: str, events: Sequence[LessonEvent]) -> None:
        """Append events to the scope's history (an event id written twice is kept once)."""
        store = self._store()
        for event in events:
            store.put(self._events_namespace(scope), event["id"], flat_event(event), index=False)

    def _events_namespace(self, scope: str) -> tuple[str, ...]:
        """Where the scope's history lives: beside its lessons, never searched with them."""
        return (*self.namespace[:-1], f"{self.namespace[-1]}-history", scope)

    def _candidates(
        self, task: str, k: int, scope: str, where: dict[str, Any] | None = None
    ) -> list[Candidate]:
        """The lessons nearest to ``task`` whose values match ``where``, with similarities."""
        items = self._store().search(
            (*self.namespace, scope), query=task, filter=where, limit=max(k * 4, _CANDIDATES)
        )
        candidates: list[Candidate] = []
        for item in items:
            if item.score is None:
                raise ConfigurationError(
                    "StoreLessonMemory needs a store with a semantic index "
                    "(e.g. InMemoryStore(index={'embed': ..., 'dims': ...}))"
                )
            candidates.append((item.key, item.value["text"], item.value, item.score))
        return candidates

    def _store(self) -> BaseStore:
        if self.store is not None:
            return self.store
        try:
            return get_store()
        except RuntimeError as error:
            raise ConfigurationError(
                "StoreLessonMemory has no store: pass one, or compile the graph with "
                "store=... (LangGraph Server provides one)"
            ) from error
