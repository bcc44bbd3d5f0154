"""What both memory backends share: validation, usefulness and ranking of stored lessons."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from reflexion_graph._records import Reflection
from reflexion_graph.errors import ConfigurationError

USER_METADATA_PREFIX = "m."
"""Stored metadata keys of the reflection's own ``metadata`` carry this prefix."""
STEP_KEY = USER_METADATA_PREFIX + "step"
"""The stored key of the step (tool name) a lesson is blamed on."""
EVIDENCE_KEY = USER_METADATA_PREFIX + "evidence"
"""The stored key of the failed check a hindsight lesson was learnt from."""
ANY_SIMILARITY = -1.0
"""The lowest cosine similarity: lessons found by their step are recalled at any similarity."""
_PRIMITIVES = (str, int, float, bool)


def check_lessons(reflections: Sequence[Reflection], scope: str) -> None:
    """Reject the whole batch, before anything is written, if one lesson is malformed."""
    if not isinstance(scope, str) or not scope.strip():
        raise ConfigurationError(f"memory scope must be a non-empty string, got {scope!r}")
    for reflection in reflections:
        name = reflection.get("id", "?")
        for field in ("id", "text", "task"):
            value = reflection.get(field)
            if not isinstance(value, str) or not value.strip():
                raise ConfigurationError(f"lesson {name!r}: {field!r} must be a non-empty string")
        for key, value in (reflection.get("metadata") or {}).items():
            if not isinstance(value, _PRIMITIVES) or (
                isinstance(value, float) and math.isnan(value)
            ):
                raise ConfigurationError(
                    f"lesson {name!r}: metadata {key!r} must be str, int, float or bool, "
                    f"got {type(value).__name__}"
                )


USAGE_COUNTERS = ("recalls", "helped", "merged")
"""The counts kept per lesson: stored with it when it is created, then added as events."""


def initial_counters(reflection: Reflection) -> dict[str, int]:
    """A new lesson has been used once: by the attempt right after it (Reflect-Retry-Reward)."""
    return {"recalls": 1, "helped": int(reflection["outcome"] == "passed"), "merged": 1}


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


def best_lessons(
    candidates: Iterable[Candidate], *, min_relevance: float, k: int
) -> list[Reflection]:
    """The ``k`` candidates above ``min_relevance``, ranked by similarity x usefulness.

    Retired lessons (:func:`is_retired`) are left out.
    """
    hits = []
    for lesson_id, text, metadata, similarity in candidates:
        recalls, helped = int(metadata["recalls"]), int(metadata["helped"])
        if similarity < min_relevance or is_retired(recalls, helped):
            continue
        score = rank(similarity, recalls, helped)
        hits.append(
            lesson_from_stored(lesson_id, text, metadata, similarity=similarity, rank=score)
        )
    hits.sort(key=lambda lesson: -float(lesson["metadata"]["rank"]))
    return hits[:k]


def stored_metadata(
    reflection: Reflection, scope: str, counters: Mapping[str, int]
) -> dict[str, Any]:
    """Flat, primitive metadata for one stored lesson."""
    metadata: dict[str, Any] = {
        "scope": scope,
        "task": reflection["task"],
        "attempt": reflection["attempt"],
        "outcome": reflection["outcome"],
        "created_at": reflection["created_at"],
        "updated_at": now(),
        **counters,
    }
    for key, value in (reflection.get("metadata") or {}).items():
        metadata[USER_METADATA_PREFIX + key] = value
    return metadata


def lesson_from_stored(
    lesson_id: str, text: str, metadata: Mapping[str, Any], **extra: float
) -> Reflection:
    """Rebuild a :class:`Reflection` from stored text and metadata (``extra``: scores)."""
    own = {
        key[len(USER_METADATA_PREFIX) :]: value
        for key, value in metadata.items()
        if key.startswith(USER_METADATA_PREFIX)
    }
    recalls, helped = int(metadata.get("recalls", 0)), int(metadata.get("helped", 0))
    return Reflection(
        id=lesson_id,
        text=text,
        task=str(metadata.get("task", "")),
        attempt=int(metadata.get("attempt", 0)),
        outcome=metadata.get("outcome", "pending"),
        created_at=str(metadata.get("created_at", "")),
        prompt="",
        metadata={
            **own,
            "scope": str(metadata.get("scope", "")),
            "recalls": recalls,
            "helped": helped,
            "merged": int(metadata.get("merged", 1)),
            "usefulness": round(usefulness(recalls, helped), 4),
            "retired": is_retired(recalls, helped),
            **{key: round(value, 4) for key, value in extra.items()},
        },
    )


def now() -> str:
    """The current UTC time, ISO-8601."""
    return datetime.now(UTC).isoformat()
