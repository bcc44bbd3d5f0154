"""Unit-test evaluator for generated Python code."""

from __future__ import annotations

import ast
import functools
import json
import secrets
import signal
from pathlib import Path
from typing import Any

from reflexion_graph._parsing import extract_code
from reflexion_graph._records import Evaluation, make_evaluation
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.evaluators._base import BaseEvaluator
from reflexion_graph.evaluators._sandbox import SandboxLimits, SandboxResult, run_python
from reflexion_graph.evaluators._test_plan import Check, plan_tests

_MAX_FEEDBACK_LINES = 5
_MAX_REPR = 200
_LIMIT_SIGNALS: dict[int, str] = {
    signal.SIGXCPU: "used up its CPU-time limit (an infinite loop or far too slow)",
    signal.SIGKILL: "was killed by a resource limit (CPU time or memory)",
    signal.SIGXFSZ: "wrote more output than allowed",
}


class CodeTestEvaluator(BaseEvaluator):
    """Runs the answer's code against ``tests`` (plain asserts or HumanEval ``check``).

    The code runs in a separate process group with a timeout and resource limits. Tests of the
    shape ``assert call == literal`` (and HumanEval checks made only of such asserts) are
    decided outside that process: the sandbox returns what ``call`` evaluated to, as plain data,
    and this process compares it with the expected value, type-strictly, so nothing the code
    does can forge a pass (see :mod:`._test_plan`). Other tests run inside the sandbox and mark
    the verdict ``source="tests-in-process"``. The score is the fraction of tests that pass;
    feedback names each failing test with expected vs. actual values, so the reflector has
    something concrete to work with. ``preamble`` runs first, in the same namespace: e.g. a
    HumanEval prompt, whose imports and helpers a whole-function answer needs (the answer's
    definition replaces the prompt's stub).
    """

    def __init__(
        self,
        tests: str,
        *,
        entry_point: str | None = None,
        preamble: str = "",
        limits: SandboxLimits | None = None,
    ) -> None:
        if not tests.strip():
            raise ConfigurationError("CodeTestEvaluator needs non-empty 'tests'")
        self.tests = tests
        self.entry_point = entry_point
        self.preamble = preamble
        self.limits = limits or SandboxLimits()
        self.plan = plan_tests(tests, entry_point)

    def evaluate(self, task: str, answer: str) -> Evaluation:
        """Extract the code from ``answer``, run it in the sandbox, judge what it returned."""
        code = extract_code(answer)
        if not code:
            return self._failed("The answer contains no code.")
        marker = f"@@report-{secrets.token_hex(8)}@@"
        payload = {
            "preamble": self.preamble,
            "code": code,
            "entry_point": self.entry_point,
            "setup": self.plan.setup,
            "calls": [check.call for check in self.plan.checks],
            "in_process": self.plan.in_process,
            "marker": marker,
        }
        result = run_python(_harness_source(), json.dumps(payload), self.limits)
        return self._verdict(result, marker)

    @property
    def _source(self) -> str:
        return "tests" if self.plan.trusted else "tests-in-process"

    def _failed(self, feedback: str) -> Evaluation:
        return make_evaluation(False, feedback=feedback, source=self._source)

    def _crash(self, result: SandboxResult) -> str:
        """Why the program ended without a report, for the reflector."""
        limit = _LIMIT_SIGNALS.get(-result.returncode)
        if limit:
            return f"The program {limit}."
        tail = result.stderr.strip().splitlines()[-3:]
        reason = "\n".join(tail) or f"exit code {result.returncode}"
        return f"The program crashed before reporting: {reason}"

    def _verdict(self, result: SandboxResult, marker: str) -> Evaluation:
        if result.timed_out:
            return self._failed(
                f"Timed out after {self.limits.timeout_s:g} s (an infinite loop or far too slow)."
            )
        report = _find_report(result.stdout, marker)
        if report is None:
            return self._failed(self._crash(result))
        if report.get("crashed") or report.get("setup_error"):
            return self._failed(str(report.get("crashed") or report.get("setup_error")))
        values, untrusted = report.get("values"), report.get("in_process_failures")
        if (
            not isinstance(values, list)
            or len(values) != len(self.plan.checks)
            or not isinstance(untrusted, list)
        ):
            return self._failed("The program's report is incomplete.")
        failures = [
            failure
            for check, value in zip(self.plan.checks, values, strict=True)
            if (failure := _judge(check, value))
        ]
        failures += [str(failure) for failure in untrusted]
        total = len(self.plan.checks) + len(self.plan.in_process)
        shown = failures[:_MAX_FEEDBACK_LINES]
        more = len(failures) - len(shown)
        feedback = "\n".join(shown + ([f"... and {more} more failures"] if more else []))
        return make_evaluation(
            not failures,
            max(total - len(failures), 0) / total,
            feedback=feedback or f"All {total} tests passed.",
            source=self._source,
        )


def _judge(check: Check, reported: object) -> str | None:
    """None if the reported value passes ``check``, else the failure for the feedback."""
    expected = _short(check.expected)
    if not isinstance(reported, dict):
        return f"failed: {check.source}  (expected {expected}; the report is malformed)"
    if "error" in reported:
        return f"error in {check.source[:200]}  (expected {expected}): {reported['error']}"
    if "not_plain" in reported:
        return (
            f"failed: {check.source}  (expected {expected}, got {reported.get('shown', '')}: "
            f"a {reported['not_plain']}, not plain data)"
        )
    try:
        actual = ast.literal_eval(str(reported.get("value")))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return f"failed: {check.source}  (expected {expected}; the value could not be read)"
    if check.passes(actual):
        return None
    return f"failed: {check.source}  (expected {expected}, got {_short(actual)})"


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


@functools.cache
def _harness_source() -> str:
    return Path(__file__).with_name("_code_harness.py").read_text()


def _find_report(stdout: str, marker: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(marker):
            try:
                report = json.loads(line[len(marker) :])
            except json.JSONDecodeError:
                return None
            return report if isinstance(report, dict) else None
    return None
