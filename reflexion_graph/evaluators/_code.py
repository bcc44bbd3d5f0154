"""Unit-test evaluator for generated Python code."""

from __future__ import annotations

from reflexion_graph._check_text import shared_convention
from reflexion_graph._records import Evaluation, as_failed_check, make_evaluation
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.evaluators._answer_code import AnswerCode, answer_code, names_used
from reflexion_graph.evaluators._base import BaseEvaluator
from reflexion_graph.evaluators._input_probes import (
    Probe,
    empty_input_finding,
    parameters_of,
    probe_note,
    probes_of,
)
from reflexion_graph.evaluators._test_plan import plan_tests, split_for, stated_checks
from reflexion_graph.evaluators._verdict_channel import (
    TestOutcome,
    run_in_candidate,
    run_tests_across,
)
from reflexion_graph.sandbox import Sandbox, SandboxLimits, default_sandbox

_MAX_FEEDBACK_LINES = 5
_MAX_NAMED_TESTS = 3
_MAX_PROBED_TESTS = 3


class CodeTestEvaluator(BaseEvaluator):
    """Runs ``tests`` (plain asserts or HumanEval ``check``) against the answer's code.

    Two processes: the answer's code runs in the sandbox and sees no test; the tests run in a
    trusted process of their own, where the answer's functions are stubs that send the call's
    arguments to the sandbox and get the return value back as plain data (exact built-in
    types; in-place changes to the arguments come back too). Nothing the code does can reach a
    comparison but the values it returns, so it cannot forge a pass (``source="tests"``).
    ``assert x == literal``, ``assert x`` and ``assert not x`` are judged type-strictly
    (``True`` is not ``1``). A test that needs the answer's objects rather than values (it
    uses a class or constant of the answer, or passes it a function) runs inside the sandbox
    instead and the verdict says ``source="tests-in-process"``, naming it; with
    ``strict=True`` such a test fails. The score is the fraction of tests that pass; feedback
    names each failing test with expected vs. actual values. ``preamble`` (e.g. a HumanEval
    prompt: its imports and helpers) runs first on both sides; the tests use its helpers, not
    the answer's. ``sandbox`` is where the code runs (default: the one evaluators share).
    With ``probe=True`` (the default), a failed ``assert f(<literals>) == <literal>`` is tried
    once more with its arguments changed in one plain way (text lowercased, a date's first two
    fields swapped); where the answer then returns the expected value, the verdict's
    ``findings`` and feedback say so (``_input_probes``); so they do where every failed check's
    expected value follows from the answer's in the same exact way (``shared_convention``).
    Neither changes the verdict.
    """

    def __init__(
        self,
        tests: str,
        *,
        entry_point: str | None = None,
        preamble: str = "",
        limits: SandboxLimits | None = None,
        strict: bool = False,
        sandbox: Sandbox | None = None,
        probe: bool = True,
    ) -> None:
        if not tests.strip():
            raise ConfigurationError("CodeTestEvaluator needs non-empty 'tests'")
        self.tests = tests
        self.entry_point = entry_point
        self.preamble = preamble
        self.limits = limits or SandboxLimits()
        self.strict = strict
        self.sandbox = sandbox or default_sandbox()
        self.probe = probe
        self.plan = plan_tests(tests, entry_point, preamble)
        used = names_used([*self.plan.setup, *self.plan.tests]) - self.plan.defined
        self.used = frozenset(used | ({entry_point} if entry_point else set()))
        """The names the tests use that the answer must define."""

    def evaluate(self, task: str, answer: str) -> Evaluation:
        """Take the code the tests use from ``answer``, run the tests, judge what came back.

        The answer's own top-level checks and demos are left out (the feedback names them).
        """
        judged = answer_code(answer, self.used)
        verdict = self._judged(judged)
        if not judged.left_out:
            return verdict
        note = "Not run (the answer's own checks or demo code): " + ", ".join(judged.left_out)
        return {**verdict, "feedback": "\n".join(filter(None, [verdict["feedback"], note]))}

    def _judged(self, judged: AnswerCode) -> Evaluation:
        if judged.missing:
            names = ", ".join(f"`{name}`" for name in judged.missing)
            return self._failed(f"The answer defines no {names}.")
        code = judged.code
        if not code:
            return self._failed("The answer contains no code.")
        split = split_for(self.plan, code, self.entry_point)
        trusted = [i for i in range(len(self.plan.tests)) if i not in split.needs_objects]
        run = run_tests_across(
            preamble=self.preamble,
            code=code,
            entry_point=self.entry_point,
            setup=self.plan.setup if len(trusted) == len(self.plan.tests) else [],
            tests=[self.plan.tests[i] for i in trusted] if trusted else [],
            stubs=split.stubs,
            limits=self.limits,
            sandbox=self.sandbox,
        )
        if run.stopped or run.setup_error:
            return self._failed(str(run.stopped or run.setup_error))
        results: dict[int, TestOutcome] = dict(zip(trusted, run.results, strict=False))
        if len(results) != len(trusted):
            return self._failed("The tests' report is incomplete.")
        checks = dict(zip(trusted, run.checks, strict=False))
        needs = dict(split.needs_objects)
        needs.update({i: r.detail for i, r in results.items() if r.status == "needs_objects"})
        results.update(self._objects_tests(code, needs))
        failed = [i for i in trusted if results[i].status == "failed"]
        verdict = self._verdict(results, checks, in_process=[] if self.strict else sorted(needs))
        if not self.probe or not failed:
            return verdict
        found: list[tuple[str, str]] = []  # (feedback line, finding)
        convention = shared_convention(verdict.get("checks") or [])
        if convention:
            finding = f"{convention}: every failed check expects that."
            found.append((f"Relation: {finding}", finding))
        found += [(probe_note(p), p.finding) for p in self._probed(code, split.stubs, failed)]
        found += [
            (f"Empty input: {finding}", finding) for finding in self._empties(code, failed, checks)
        ]
        if not found:
            return verdict
        return {
            **verdict,
            "feedback": "\n".join([verdict["feedback"], *(note for note, _ in found)]),
            "findings": [finding for _, finding in found],
        }

    def _probed(self, code: str, stubs: list[str], failed: list[int]) -> list[Probe]:
        """The probes of the first failed tests that passed, one per finding.

        Per test, the passing probe that changed the fewest arguments says the most.
        """
        tests = [self.plan.tests[index] for index in failed[:_MAX_PROBED_TESTS]]
        probed = [probes_of(test, parameters_of(code, test)) for test in tests]
        probes = [probe for found in probed for probe in found]
        if not probes:
            return []
        run = run_tests_across(
            preamble=self.preamble,
            code=code,
            entry_point=self.entry_point,
            setup=[],
            tests=[probe.test for probe in probes],
            stubs=stubs,
            limits=self.limits,
            sandbox=self.sandbox,
        )
        passed = {
            probe.test
            for probe, o in zip(probes, run.results, strict=False)
            if o.status == "passed"
        }
        found: dict[str, Probe] = {}
        for probes_of_test in probed:
            best = min(
                (p for p in probes_of_test if p.test in passed),
                key=lambda p: p.changed,
                default=None,
            )
            if best is not None:
                found.setdefault(best.finding, best)
        return list(found.values())

    def _empties(
        self, code: str, failed: list[int], checks: dict[int, dict[str, str] | None]
    ) -> list[str]:
        """The empty-input findings of the failed tests that raised (``empty_input_finding``)."""
        raised = [i for i in failed if (check := checks.get(i)) and check.get("error")]
        findings = (
            empty_input_finding(test, parameters_of(code, test))
            for test in (self.plan.tests[i] for i in raised)
        )
        return list(dict.fromkeys(filter(None, findings)))

    def _objects_tests(self, code: str, needs: dict[int, str]) -> dict[int, TestOutcome]:
        """The tests that need the answer's objects: failed when strict, else run in its process."""
        if not needs:
            return {}
        tests = {i: self.plan.tests[i] for i in sorted(needs)}
        if self.strict:
            return {
                i: TestOutcome(
                    "failed",
                    f"failed: {test[:200]}  (it needs the answer's objects ({needs[i]}), not "
                    "values: strict mode fails it)",
                )
                for i, test in tests.items()
            }
        outcomes = run_in_candidate(
            preamble=self.preamble,
            code=code,
            statements=[*self.plan.setup, *tests.values()],
            limits=self.limits,
            sandbox=self.sandbox,
        )
        setup = outcomes[: len(self.plan.setup)]
        setup_failure = next((o for o in setup if o.status == "failed"), None)
        return {
            i: setup_failure or outcome
            for i, outcome in zip(tests, outcomes[len(self.plan.setup) :], strict=True)
        }

    def _verdict(
        self,
        results: dict[int, TestOutcome],
        checks: dict[int, dict[str, str] | None],
        in_process: list[int],
    ) -> Evaluation:
        failed = [i for i in sorted(results) if results[i].status != "passed"]
        failures = [results[i].detail for i in failed]
        total = len(self.plan.tests)
        shown = failures[:_MAX_FEEDBACK_LINES]
        more = len(failures) - len(shown)
        lines = shown + ([f"... and {more} more failures"] if more else [])
        if not failures:
            lines.append(f"All {total} tests passed.")
        if in_process:
            named = "; ".join(self.plan.tests[i][:120] for i in in_process[:_MAX_NAMED_TESTS])
            lines.append(f"Decided inside the answer's process (they need its objects): {named}")
        return make_evaluation(
            not failures,
            (total - len(failures)) / total,
            feedback="\n".join(lines),
            source="tests-in-process" if in_process else "tests",
            checks=[as_failed_check(check) for i in failed if (check := checks.get(i))],
        )

    def _failed(self, feedback: str) -> Evaluation:
        """A verdict the tests never reached: each of them failed, as its text states it."""
        return make_evaluation(
            False, feedback=feedback, source="tests", checks=stated_checks(self.plan)
        )
