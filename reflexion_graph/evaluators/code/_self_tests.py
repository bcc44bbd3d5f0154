"""Self-generated unit tests (Reflexion's programming setup), guarded against bad tests."""

from __future__ import annotations

import ast
import threading

from langchain_core.language_models import BaseChatModel

from reflexion_graph import prompts
from reflexion_graph._parsing import CLOSING_FENCE, extract_code, message_text
from reflexion_graph._records import Evaluation, make_evaluation
from reflexion_graph.evaluators._base import BaseEvaluator
from reflexion_graph.evaluators.code._evaluator import CodeTestEvaluator
from reflexion_graph.models._binding import with_options
from reflexion_graph.sandbox import SandboxLimits


class SelfTestEvaluator(BaseEvaluator):
    """The model writes unit tests from the task; answers are run against them in the sandbox.

    Reflexion lost accuracy on MBPP from false-positive self-tests, so the tests are guarded:
    each must parse; a test that contradicts an example given in the task (``assert f(2) == 4``
    or ``>>> f(2)`` / ``4``) is dropped; the task's own examples always run; fewer than
    ``min_tests`` usable tests trigger one more try. The tests are written once per task, so
    every attempt is judged by the same tests. Hidden tests belong in a separate, final check.
    """

    def __init__(
        self,
        model: BaseChatModel,
        *,
        count: int = 6,
        min_tests: int = 3,
        preamble: str = "",
        limits: SandboxLimits | None = None,
        max_tokens: int | None = 384,
    ) -> None:
        self.model = model
        # Tests come in one code block: stop at its end, and cap the reply as answers are.
        self._writer = with_options(model, max_tokens=max_tokens, stop=(CLOSING_FENCE,))
        self.count = count
        self.min_tests = min_tests
        self.preamble = preamble
        self.limits = limits or SandboxLimits()
        self._tests: dict[str, list[str]] = {}
        self._judges: dict[str, CodeTestEvaluator] = {}
        self._lock = threading.Lock()

    def use_tests(self, task: str, tests: list[str]) -> None:
        """Judge ``task`` with these tests (written earlier, e.g. by a resumed benchmark)."""
        with self._lock:
            self._tests[task] = list(tests)
            self._judges.pop(task, None)

    def tests_for(self, task: str) -> list[str]:
        """The guarded tests for ``task`` (written on first use, then reused).

        The model is asked with no lock held; where two threads ask at once, the first tests
        stored are the task's.
        """
        with self._lock:
            if task in self._tests:
                return self._tests[task]
        written = self._write_tests(task)
        with self._lock:
            return self._tests.setdefault(task, written)

    def evaluate(self, task: str, answer: str) -> Evaluation:
        """Run the answer against the task's examples and the kept self-tests."""
        judge = self._judge(task)
        if judge is None:
            return make_evaluation(
                False,
                feedback="No usable tests could be written for this task.",
                source="self-tests",
            )
        return {**judge.evaluate(task, answer), "source": "self-tests"}

    def _judge(self, task: str) -> CodeTestEvaluator | None:
        """The task's tests, planned once (``None`` when none could be written)."""
        tests = self.tests_for(task)
        with self._lock:
            if task not in self._judges and tests:
                self._judges[task] = CodeTestEvaluator(
                    "\n".join(tests), preamble=self.preamble, limits=self.limits, probe=False
                )
            return self._judges.get(task)

    def _write_tests(self, task: str) -> list[str]:
        examples = task_examples(task)
        kept: list[str] = []
        for _ in range(2):
            prompt = prompts.SELF_TEST_PROMPT.format(count=self.count, task=task)
            reply = message_text(self._writer.invoke(prompt).content)
            kept = filter_tests(parse_asserts(extract_code(reply)), examples)
            if len(examples) + len(kept) >= self.min_tests:
                break
        return list(dict.fromkeys([*(_as_assert(c, e) for c, e in examples), *kept]))


def task_examples(task: str) -> list[tuple[str, str]]:
    """``(call, expected)`` pairs stated in the task: asserts and doctest examples."""
    examples = []
    for source in parse_asserts(task):
        pair = _call_and_expected(source)
        if pair:
            examples.append(pair)
    lines = task.splitlines()
    for index, line in enumerate(lines[:-1]):
        stripped = line.strip()
        if stripped.startswith(">>> ") and lines[index + 1].strip():
            call, expected = stripped[4:].strip(), lines[index + 1].strip()
            if _parses(call) and _parses(expected):
                examples.append(
                    (
                        ast.unparse(ast.parse(call, mode="eval")),
                        ast.unparse(ast.parse(expected, mode="eval")),
                    )
                )
    return examples


def parse_asserts(text: str) -> list[str]:
    """Every line that is a well-formed ``assert`` statement, normalised."""
    found = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("assert ") and _parses(stripped, mode="exec"):
            found.append(ast.unparse(ast.parse(stripped)))
    return found


def filter_tests(tests: list[str], examples: list[tuple[str, str]]) -> list[str]:
    """Drop tests that contradict an example of the task (same call, other expected value)."""
    expected_by_call = {call: expected for call, expected in examples}
    kept = []
    for test in tests:
        pair = _call_and_expected(test)
        if (
            pair
            and pair[0] in expected_by_call
            and not _same_literal(pair[1], expected_by_call[pair[0]])
        ):
            continue
        kept.append(test)
    return kept


def _call_and_expected(assert_source: str) -> tuple[str, str] | None:
    node = ast.parse(assert_source).body[0]
    if not isinstance(node, ast.Assert):
        return None
    test = node.test
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq | ast.Is)
    ):
        return ast.unparse(test.left), ast.unparse(test.comparators[0])
    return None


def _same_literal(left: str, right: str) -> bool:
    try:
        return bool(ast.literal_eval(left) == ast.literal_eval(right))
    except (ValueError, SyntaxError):
        return left == right


def _as_assert(call: str, expected: str) -> str:
    return f"assert {call} == {expected}"


def _parses(source: str, mode: str = "eval") -> bool:
    try:
        ast.parse(source, mode=mode)
    except SyntaxError:
        return False
    return True
