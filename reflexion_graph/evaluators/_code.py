"""Unit-test evaluator for generated Python code."""

from __future__ import annotations

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

_MAX_FEEDBACK_LINES = 5
_LIMIT_SIGNALS: dict[int, str] = {
    signal.SIGXCPU: "used up its CPU-time limit (an infinite loop or far too slow)",
    signal.SIGKILL: "was killed by a resource limit (CPU time or memory)",
    signal.SIGXFSZ: "wrote more output than allowed",
}


class CodeTestEvaluator(BaseEvaluator):
    """Runs the answer's code against ``tests`` (plain asserts or HumanEval ``check``).

    The code runs in a separate process group with a timeout and resource limits. The score
    is the fraction of tests that pass; feedback names each failing test with expected vs.
    actual values, so the reflector has something concrete to work with. ``preamble`` runs
    first, in the same namespace: e.g. a HumanEval prompt, whose imports and helpers a
    whole-function answer needs (the answer's definition replaces the prompt's stub).
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

    def evaluate(self, task: str, answer: str) -> Evaluation:
        """Extract the code from ``answer`` and run the tests against it."""
        code = extract_code(answer)
        if not code:
            return make_evaluation(False, feedback="The answer contains no code.", source="tests")
        marker = f"@@report-{secrets.token_hex(8)}@@"
        payload = {
            "preamble": self.preamble,
            "code": code,
            "tests": self.tests,
            "entry_point": self.entry_point,
            "marker": marker,
        }
        result = run_python(_harness_source(), json.dumps(payload), self.limits)
        return self._verdict(result, marker)

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
            return make_evaluation(
                False,
                feedback=f"Timed out after {self.limits.timeout_s:g} s "
                "(an infinite loop or far too slow).",
                source="tests",
            )
        report = _find_report(result.stdout, marker)
        if report is None:
            return make_evaluation(False, feedback=self._crash(result), source="tests")
        if report.get("error"):
            raise ConfigurationError(f"the task's tests are broken: {report['error']}")
        total, failures = int(report["total"]), [str(f) for f in report["failures"]]
        if total == 0:
            raise ConfigurationError("the task's tests contain no assert and no check()")
        passed_count = max(total - len(failures), 0)
        shown = failures[:_MAX_FEEDBACK_LINES]
        more = len(failures) - len(shown)
        feedback = "\n".join(shown + ([f"... and {more} more failures"] if more else []))
        return make_evaluation(
            not failures,
            passed_count / total,
            feedback=feedback or f"All {total} tests passed.",
            source="tests",
        )


@functools.cache
def _harness_source() -> str:
    return Path(__file__).with_name("_code_harness.py").read_text()


def _find_report(stdout: str, marker: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(marker):
            report: dict[str, Any] = json.loads(line[len(marker) :])
            return report
    return None
