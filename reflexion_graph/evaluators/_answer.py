"""Checks of a final answer against an expected value or a pattern."""

from __future__ import annotations

import re
import string

from reflexion_graph import prompts
from reflexion_graph._parsing import extract_final_answer, has_answer_marker
from reflexion_graph._records import Evaluation, make_check, make_evaluation
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.evaluators._base import BaseEvaluator

_PUNCTUATION = str.maketrans("", "", string.punctuation.replace("-", "").replace(".", ""))


def normalize_answer(text: str) -> str:
    """Lowercase, drop most punctuation, collapse whitespace and a trailing period."""
    return " ".join(text.lower().translate(_PUNCTUATION).split()).rstrip(".")


def _describe(answer: str, final: str) -> str:
    """Name what was judged, without revealing the expected answer (no oracle leak)."""
    if has_answer_marker(answer):
        return f"The final answer {final!r}"
    return f"There is no 'Answer:' line, so the last line {final!r} was judged; it"


class ExactMatchEvaluator(BaseEvaluator):
    """Passes when the final answer equals ``expected`` (normalised unless told otherwise)."""

    def __init__(self, expected: str, *, normalize: bool = True) -> None:
        if not str(expected).strip():
            raise ConfigurationError("ExactMatchEvaluator needs a non-empty 'expected' value")
        self.expected = str(expected)
        self.normalize = normalize

    def evaluate(self, task: str, answer: str) -> Evaluation:
        """Compare the final answer line with the expected value."""
        final = extract_final_answer(answer)
        same = (
            normalize_answer(final) == normalize_answer(self.expected)
            if self.normalize
            else final == self.expected
        )
        if same:
            return make_evaluation(True, source="checker")
        why = f"{_describe(answer, final)} is not the correct answer."
        return _wrong(why, repr(self.expected), final, answer)


class RegexEvaluator(BaseEvaluator):
    """Passes when ``pattern`` is found in the final answer."""

    def __init__(self, pattern: str, *, flags: int = re.IGNORECASE) -> None:
        try:
            self.pattern = re.compile(pattern, flags)
        except re.error as error:
            raise ConfigurationError(f"invalid regex {pattern!r}: {error}") from error

    def evaluate(self, task: str, answer: str) -> Evaluation:
        """Search the final answer line for the pattern."""
        final = extract_final_answer(answer)
        found = self.pattern.search(final) is not None
        if found:
            return make_evaluation(True, source="checker")
        why = f"{_describe(answer, final)} does not have the expected form."
        return _wrong(why, f"a match of {self.pattern.pattern!r}", final, answer)


def form_finding(answer: str) -> str:
    """What is wrong with the answer's form, where the check could not find its answer line.

    A fact about the answer, found without a model: it has no ``Answer:`` line, or it is code
    where a value was asked for (``""`` when it has the line).
    """
    if has_answer_marker(answer):
        return ""
    return prompts.ANSWER_FORM_FINDINGS["code" if "```" in answer else "no_line"]


def _wrong(feedback: str, expected: str, final: str, answer: str) -> Evaluation:
    """A failed answer check: the feedback, the record of what was expected, a form finding."""
    check = make_check("answer", "the final answer", expected=expected, actual=repr(final))
    form = form_finding(answer)
    return make_evaluation(
        False,
        feedback="\n".join(filter(None, [feedback, form])),
        source="checker",
        checks=[check],
        findings=[form] if form else [],
    )
