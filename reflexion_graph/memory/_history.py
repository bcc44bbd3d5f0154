"""A lesson's history: every change to it, as an append-only event with its time, who and why."""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from typing_extensions import TypedDict

from reflexion_graph._records import Lesson
from reflexion_graph.memory._lessons import (
    DECIDED,
    JUDGED_FROM,
    USAGE_COUNTERS,
    Decision,
    counters_of,
    now,
    state_of,
    usefulness,
)

EventKind = Literal[
    "stored",
    "merged",
    "recalled",
    "credited",
    "retired",
    "approved",
    "rejected",
    "pruned",
    "restored",
    "purged",
]
"""What happened to a lesson: ``recalled`` (the attempt that saw it failed), ``credited`` (it
passed), ``merged`` (a repeat of it was counted on it), ``purged`` (deleted; its history
stays), the rest as named."""

RUN = "run"
"""Who wrote the events a run causes (stored, merged, recalled, credited, retired)."""


class LessonEvent(TypedDict):
    """One change to one lesson."""

    id: str
    """The event's own id (a replayed change gets the same id, so it is kept once)."""
    lesson: str
    """The id of the lesson it changed."""
    kind: EventKind
    at: str
    """ISO-8601 UTC time."""
    by: str
    """``run`` for what runs do, else the person (or program) who decided."""
    reason: str
    recalls: int
    """Recalls it adds to the lesson's count (``recalled``, ``credited``, ``merged``)."""
    helped: int
    """Helps it adds."""
    merged: int
    """Merges it adds."""


def lesson_event(
    lesson_id: str,
    kind: EventKind,
    *,
    by: str = RUN,
    reason: str = "",
    counts: Mapping[str, int] | None = None,
    event_id: str | None = None,
) -> LessonEvent:
    """A new event; ``counts`` are what it adds to the lesson's usage counters."""
    added = {key: int((counts or {}).get(key, 0)) for key in USAGE_COUNTERS}
    return LessonEvent(
        id=event_id or uuid.uuid4().hex,
        lesson=lesson_id,
        kind=kind,
        at=now(),
        by=by,
        reason=reason,
        recalls=added["recalls"],
        helped=added["helped"],
        merged=added["merged"],
    )


def event_from_stored(event_id: str, stored: Mapping[str, Any]) -> LessonEvent:
    """An event as a backend kept it.

    A usage event from before the history has its kind read off its counts, and no time.
    """
    counts = {key: int(stored.get(key, 0)) for key in USAGE_COUNTERS}
    kind: EventKind = stored.get("kind") or (
        "merged" if counts["merged"] else "credited" if counts["helped"] else "recalled"
    )
    return LessonEvent(
        id=event_id,
        lesson=str(stored["lesson"]),
        kind=kind,
        at=str(stored.get("at", "")),
        by=str(stored.get("by", RUN)),
        reason=str(stored.get("reason", "")),
        recalls=counts["recalls"],
        helped=counts["helped"],
        merged=counts["merged"],
    )


def flat_event(event: LessonEvent) -> dict[str, Any]:
    """The flat record a backend keeps of ``event`` (its id kept apart)."""
    return {key: value for key, value in event.items() if key != "id"}


def store_event(lesson: Lesson, *, pending: bool) -> LessonEvent:
    """The event of ``lesson`` stored (its id derives from the lesson's: a replay keeps one)."""
    wait = " (pending review)" if pending else ""
    return lesson_event(
        lesson["id"],
        "stored",
        reason=f"{lesson['source']} lesson from: {lesson['task'][:120]}{wait}",
        event_id=f"stored-{lesson['id']}",
    )


def merge_event(into: str, lesson: Lesson) -> LessonEvent:
    """The event of ``lesson``, a repeat of the stored lesson ``into``, counted on it."""
    return lesson_event(
        into,
        "merged",
        reason=f"repeated by lesson {lesson['id']} from: {lesson['task'][:120]}",
        counts=counters_of(lesson),
        event_id=f"merge-{lesson['id']}",
    )


def decision_event(lesson_id: str, decision: Decision, *, by: str, reason: str) -> LessonEvent:
    """The event of a person's decision.

    A lesson is reviewed once (pending, then approved or rejected), so a review's id derives
    from the lesson's: two reviewers approving it at once leave one event.
    """
    kind = DECIDED[decision]
    reviewed = decision in ("approve", "reject")
    return lesson_event(
        lesson_id, kind, by=by, reason=reason, event_id=f"{kind}-{lesson_id}" if reviewed else None
    )


def usage_event(lesson_id: str, passed: bool) -> LessonEvent:
    """The event of a recalled lesson: ``credited`` when the attempt that saw it passed."""
    return lesson_event(
        lesson_id,
        "credited" if passed else "recalled",
        reason="the attempt that saw it passed" if passed else "the attempt that saw it failed",
        counts={"recalls": 1, "helped": int(passed)},
    )


def retirements(totals: Mapping[str, Mapping[str, Any]]) -> list[LessonEvent]:
    """The retirement of each lesson whose counts (usage added) now retire it.

    Its id names the lesson and its last restore, so writers who see it at once keep one.
    """
    return [
        lesson_event(
            lesson_id,
            "retired",
            reason=(
                f"usefulness {usefulness(int(meta['recalls']), int(meta['helped'])):.2f} "
                f"after {meta['recalls']} recalls"
            ),
            event_id=f"retired-{lesson_id}-{int(meta.get(JUDGED_FROM['recalls'], 0))}",
        )
        for lesson_id, meta in totals.items()
        if state_of(meta) == "retired"
    ]


def unknown_lesson(lesson_id: str, scope: str, purged: LessonEvent | None) -> str:
    """Why ``lesson_id`` is not in ``scope``: never stored there, or purged (and when)."""
    if purged is not None:
        return f"lesson {lesson_id!r} was purged at {purged['at']}: it is gone"
    return f"no lesson {lesson_id!r} in scope {scope!r}"


def in_order(events: list[LessonEvent]) -> list[LessonEvent]:
    """Oldest first (events from before the history, which have no time, first of all)."""
    return sorted(events, key=lambda event: (event["at"], event["id"]))


def person() -> str:
    """Who is deciding, when no one is named: the operating system's user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
