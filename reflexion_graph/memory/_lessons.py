"""What both memory backends share: validation, usefulness and ranking of stored lessons."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from reflexion_graph._records import Lesson, LessonState
from reflexion_graph.errors import ConfigurationError

USER_METADATA_PREFIX = "m."
"""Stored keys of a lesson's ``metadata``, and of its typed fields below, carry this prefix."""
STORED_FIELDS = ("rule", "evidence", "step", "source", "replay")
"""The lesson's typed fields stored under ``m.<field>``, the keys memories have always used
for them, so lessons stored before the typed record read the same and step filters still work."""
STEP_KEY = USER_METADATA_PREFIX + "step"
"""The stored key of the step (tool name) a lesson is blamed on."""
EVIDENCE_KEY = USER_METADATA_PREFIX + "evidence"
"""The stored key of the failed check a lesson was learnt from."""
ANY_SIMILARITY = -1.0
"""The lowest cosine similarity: lessons found by their step are recalled at any similarity."""
USAGE_COUNTERS = ("recalls", "helped", "merged")
"""The counts kept per lesson: stored with it when it is created, then added as events."""
_TEXT_FIELDS = ("id", "text", "task")
_PRIMITIVES = (str, int, float, bool)


def check_lessons(lessons: Sequence[Lesson], scope: str) -> None:
    """Reject the whole batch, before anything is written, if one lesson is malformed."""
    if not isinstance(scope, str) or not scope.strip():
        raise ConfigurationError(f"memory scope must be a non-empty string, got {scope!r}")
    for lesson in lessons:
        name = lesson.get("id", "?")
        for field in _TEXT_FIELDS:
            value = lesson.get(field)
            if not isinstance(value, str) or not value.strip():
                raise ConfigurationError(f"lesson {name!r}: {field!r} must be a non-empty string")
        for field in STORED_FIELDS:
            if not isinstance(lesson.get(field), str):
                raise ConfigurationError(f"lesson {name!r}: {field!r} must be a string")
        for field in USAGE_COUNTERS:
            value = lesson.get(field)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigurationError(
                    f"lesson {name!r}: {field!r} must be an integer >= 0, got {value!r}"
                )
        for key, value in (lesson.get("metadata") or {}).items():
            if not isinstance(value, _PRIMITIVES) or (
                isinstance(value, float) and math.isnan(value)
            ):
                raise ConfigurationError(
                    f"lesson {name!r}: metadata {key!r} must be str, int, float or bool, "
                    f"got {type(value).__name__}"
                )


def counters_of(lesson: Lesson) -> dict[str, int]:
    """The lesson's usage counts, as stored with it (or added to a lesson it merges into)."""
    return {"recalls": lesson["recalls"], "helped": lesson["helped"], "merged": lesson["merged"]}


def usefulness(recalls: int, helped: int) -> float:
    """Posterior mean of "the attempt that used this lesson passed" (Beta(1, 1) prior)."""
    return (helped + 1) / (recalls + 2)


RETIRE_AFTER_RECALLS = 4
"""A lesson is judged on its usefulness once it has been recalled this many times."""
RETIRE_BELOW = 1 / 3
"""A lesson whose usefulness is below this after ``RETIRE_AFTER_RECALLS`` recalls is retired."""


def is_retired(recalls: int, helped: int) -> bool:
    """Whether a lesson stopped helping: kept for audit, never recalled again.

    Deterministic, from its counts alone: a verified lesson (its replay counts as a recall
    that helped) is retired once four later recalls did not help.
    """
    return recalls >= RETIRE_AFTER_RECALLS and usefulness(recalls, helped) < RETIRE_BELOW


def rank(similarity: float, recalls: int, helped: int) -> float:
    """Similarity, scaled x0.75..x1.25 by usefulness (an unused lesson keeps x1.0)."""
    return similarity * (0.5 + usefulness(recalls, helped))


Candidate = tuple[str, str, Mapping[str, Any], float]
"""A stored lesson found by similarity: ``(id, text, metadata, cosine similarity)``."""


REVIEW_KEY = "review"
"""Stored metadata: a lesson's review state (none, for a memory without review: active)."""
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
PRUNED_KEY = "pruned"
"""Stored metadata: ``True`` once the lesson is pruned (hidden, never recalled, restorable)."""
JUDGED_FROM = {"recalls": "judged_from_recalls", "helped": "judged_from_helped"}
"""Stored metadata: the counts at its last restore; retirement is judged on those since."""
Decision = Literal["approve", "reject", "prune", "restore"]
DECIDED: dict[str, Literal["approved", "rejected", "pruned", "restored"]] = {
    "approve": "approved",
    "reject": "rejected",
    "prune": "pruned",
    "restore": "restored",
}
"""The event each decision leaves."""
_RESTORABLE = ("retired", "rejected", "pruned")


def state_of(metadata: Mapping[str, Any]) -> LessonState:
    """A stored lesson's state, from its metadata with its usage counts added."""
    if metadata.get(PRUNED_KEY):
        return "pruned"
    review = metadata.get(REVIEW_KEY)
    if review == PENDING:
        return "pending"
    if review == REJECTED:
        return "rejected"
    recalls, helped = (
        int(metadata.get(key, 0)) - int(metadata.get(JUDGED_FROM[key], 0))
        for key in ("recalls", "helped")
    )
    return "retired" if is_retired(recalls, helped) else "active"


def recallable(metadata: Mapping[str, Any]) -> bool:
    """Whether a stored lesson may be recalled: active (not pending, rejected, retired, pruned)."""
    return state_of(metadata) == "active"


def decided(lesson_id: str, metadata: Mapping[str, Any], decision: str) -> dict[str, Any] | None:
    """The stored metadata keys a decision changes, or ``None`` when it changes nothing.

    ``metadata`` is the lesson's, with its usage counts added. Approving or rejecting
    decides a pending lesson (the same decision again changes nothing; the other one is an
    error naming it); pruning hides a lesson; restoring brings back a retired, rejected or
    pruned one, its counts kept and its retirement judged afresh from then on.
    """
    if decision not in DECIDED:
        raise ConfigurationError(f"a decision is one of {', '.join(DECIDED)}, not {decision!r}")
    state, changed = state_of(metadata), {"updated_at": now()}
    if decision in ("approve", "reject"):
        review, wanted = metadata.get(REVIEW_KEY), APPROVED if decision == "approve" else REJECTED
        if review == wanted:
            return None
        if review != PENDING:
            raise ConfigurationError(
                f"lesson {lesson_id!r} is {review or state}, not pending review: "
                f"cannot {decision} it"
            )
        return {**changed, REVIEW_KEY: wanted}
    if decision == "prune":
        return None if state == "pruned" else {**changed, PRUNED_KEY: True}
    if state not in _RESTORABLE:
        raise ConfigurationError(
            f"lesson {lesson_id!r} is {state}: only a retired, rejected or pruned lesson "
            "can be restored"
        )
    restored = {**changed, PRUNED_KEY: False}
    restored.update({JUDGED_FROM[key]: int(metadata.get(key, 0)) for key in JUDGED_FROM})
    if metadata.get(REVIEW_KEY) == REJECTED:
        restored[REVIEW_KEY] = APPROVED
    return restored


def best_lessons(candidates: Iterable[Candidate], *, min_relevance: float, k: int) -> list[Lesson]:
    """The ``k`` candidates above ``min_relevance``, ranked by similarity x usefulness.

    Only active lessons (:func:`recallable`) are recalled: not retired, pruned, rejected or
    pending review.
    """
    hits = []
    for lesson_id, text, metadata, similarity in candidates:
        if similarity < min_relevance or not recallable(metadata):
            continue
        score = rank(similarity, int(metadata["recalls"]), int(metadata["helped"]))
        hits.append(
            lesson_from_stored(lesson_id, text, metadata, similarity=similarity, rank=score)
        )
    hits.sort(key=lambda lesson: -lesson["rank"])
    return hits[:k]


def stored_metadata(lesson: Lesson, scope: str, *, pending: bool = False) -> dict[str, Any]:
    """Flat, primitive metadata for one stored lesson (its text is stored apart).

    ``pending``: stored for review, not recalled until approved.
    """
    metadata: dict[str, Any] = {
        "scope": scope,
        "task": lesson["task"],
        "created_at": lesson["created_at"],
        "updated_at": now(),
        **counters_of(lesson),
        **({REVIEW_KEY: PENDING} if pending else {}),
    }
    for key, value in (lesson.get("metadata") or {}).items():
        metadata[USER_METADATA_PREFIX + key] = value
    typed = {
        "rule": lesson["rule"],
        "evidence": lesson["evidence"],
        "step": lesson["step"],
        "source": lesson["source"],
        "replay": lesson["replay"],
    }
    metadata.update({USER_METADATA_PREFIX + field: value for field, value in typed.items()})
    return metadata


def stored_as_evidence(metadata: Mapping[str, Any]) -> bool:
    """Whether stored metadata is an evidence lesson's."""
    return metadata.get(USER_METADATA_PREFIX + "source") == "evidence"


def lesson_from_stored(
    lesson_id: str,
    text: str,
    metadata: Mapping[str, Any],
    *,
    similarity: float | None = None,
    rank: float | None = None,
) -> Lesson:
    """Rebuild a :class:`Lesson` from its stored text and metadata (and its search scores)."""
    own = {
        key[len(USER_METADATA_PREFIX) :]: value
        for key, value in metadata.items()
        if key.startswith(USER_METADATA_PREFIX)
    }
    typed = {field: str(own.pop(field, "") or "") for field in STORED_FIELDS}
    lesson = Lesson(
        id=lesson_id,
        text=text,
        rule=typed["rule"],
        evidence=typed["evidence"],
        step=typed["step"],
        task=str(metadata.get("task", "")),
        scope=str(metadata.get("scope", "")),
        source=typed["source"] or "failure",  # type: ignore[typeddict-item]
        replay=typed["replay"] or "none",  # type: ignore[typeddict-item]
        recalls=int(metadata.get("recalls", 0)),
        helped=int(metadata.get("helped", 0)),
        merged=int(metadata.get("merged", 1)),
        created_at=str(metadata.get("created_at", "")),
        prompt="",
        metadata=own,
        state=state_of(metadata),
    )
    if similarity is not None:
        lesson["similarity"] = round(similarity, 4)
    if rank is not None:
        lesson["rank"] = round(rank, 4)
    return lesson


def now() -> str:
    """The current UTC time, ISO-8601."""
    return datetime.now(UTC).isoformat()
