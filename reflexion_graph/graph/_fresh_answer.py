"""A retry that copies a failed answer is asked once more, as a fresh sample.

Shown its failed answer in the conversation, a 1.5B model often writes the same code again
("The corrected answer now raises a `ValueError` ...") and wastes the attempt: the checks will
fail it the same way. The actor is then asked once more without the failed answer, seeing the
run's lessons (or, with none, the verdict's feedback), so the anchor is gone but not what the
checks said.
"""

from __future__ import annotations

from collections.abc import Sequence

from reflexion_graph import prompts
from reflexion_graph._parsing import extract_code
from reflexion_graph._records import Attempt, make_reflection
from reflexion_graph.actors._request import AttemptRequest


def repeats_failed(answer: str, attempts: Sequence[Attempt]) -> bool:
    """Whether ``answer``'s code is that of a failed attempt of the run (blank lines aside)."""
    code = _normalized(answer)
    return any(
        not attempt["evaluation"]["passed"] and _normalized(attempt["answer"]) == code
        for attempt in attempts
    )


def fresh_request(request: AttemptRequest) -> AttemptRequest:
    """The request without the failed answer; its feedback kept as a note when no lesson is."""
    last = request.last_attempt
    if last is None or request.reflections:
        return request.override(last_attempt=None)
    note = make_reflection(
        prompts.FALLBACK_LESSON.format(feedback=last["evaluation"]["feedback"]),
        task=request.task,
        attempt=last["number"],
    )
    return request.override(last_attempt=None, reflections=[note])


def _normalized(answer: str) -> str:
    return "\n".join(line.rstrip() for line in extract_code(answer).splitlines() if line.strip())
