"""Unit-test evaluator for generated Python code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from reflexion_graph import prompts
from reflexion_graph._records import Evaluation, as_failed_check, make_evaluation
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.evaluators._base import BaseEvaluator
from reflexion_graph.evaluators.code._answer_code import AnswerCode, answer_code, names_used
from reflexion_graph.evaluators.code._test_plan import plan_tests, split_for, stated_checks
from reflexion_graph.evaluators.code._verdict_channel import (
    TestOutcome,
    run_in_candidate,
    run_tests_across,
)
from reflexion_graph.findings import (
    PROPOSERS,
    Change,
    FailedTest,
    Finding,
    Proposer,
    changed_code,
    check_call,
    find,
    statement,
)
from reflexion_graph.sandbox import Sandbox, SandboxLimits, default_sandbox

_MAX_FEEDBACK_LINES = 5
_MAX_NAMED_TESTS = 3


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
    With ``probe=True`` (the default), a failed answer is changed in plain ways (its result,
    an argument, an empty input: :mod:`reflexion_graph.findings`); where the changed answer
    passes *every* test, the verdict's ``findings`` and feedback give the change as code. It
    never changes the verdict. ``proposers`` chooses who suggests changes (default
    :data:`~reflexion_graph.findings.PROPOSERS`; add a
    :class:`~reflexion_graph.findings.ModelProposer` to let a model write them too).
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
        proposers: Mapping[str, Proposer] | None = None,
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
        self.proposers = PROPOSERS if proposers is None else dict(proposers)
        """Who suggests changes to a failed answer (``reflexion_graph.findings.PROPOSERS``)."""
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
        if not self.probe or not failed or needs:
            return verdict
        finding = find(
            code,
            [_failed_test(self.plan.tests[i], checks.get(i)) for i in failed],
            self._passes_every_check,
            checks=len(self.plan.tests),
            function=self.entry_point,
            proposers=self.proposers,
        )
        if finding is None:
            return verdict
        note = prompts.FINDING_FEEDBACK.format(statement=finding.statement)
        return {
            **verdict,
            "feedback": "\n".join([verdict["feedback"], note]),
            "findings": [finding.statement],
            "changes": [finding.to_record()],
        }

    def verified(self, answer: str, change: Change, *, source: str) -> Finding | None:
        """``change`` (from another task: memory) applied to ``answer``, if it passes every test.

        It is applied to the function the tests call (``change.carries_over`` says whether it
        can be: an argument's name is the other function's).
        """
        function = self.entry_point or next(
            (call.function for test in self.plan.tests if (call := check_call(test))), None
        )
        code = answer_code(answer, self.used).code
        if not change.carries_over or not function or not code:
            return None
        mine = replace(change, function=function)
        try:
            changed = changed_code(code, mine)
        except (SyntaxError, ValueError):
            return None
        if not self._passes_every_check(changed):
            return None
        return Finding(statement(mine), mine, source, checks=len(self.plan.tests), fixed=0)

    def _passes_every_check(self, code: str) -> bool:
        """Whether ``code`` passes every test, run as any answer's are (what verifies a finding)."""
        split = split_for(self.plan, code, self.entry_point)
        if split.needs_objects:
            return False
        run = run_tests_across(
            preamble=self.preamble,
            code=code,
            entry_point=self.entry_point,
            setup=self.plan.setup,
            tests=self.plan.tests,
            stubs=split.stubs,
            limits=self.limits,
            sandbox=self.sandbox,
        )
        outcomes = run.results
        return (
            not (run.stopped or run.setup_error)
            and len(outcomes) == len(self.plan.tests)
            and all(outcome.status == "passed" for outcome in outcomes)
        )

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


def _failed_test(test: str, check: dict[str, str] | None) -> FailedTest:
    """A failed test with what the answer returned (``""`` and ``raised`` where it raised)."""
    actual = (check or {}).get("actual", "")
    return FailedTest(test, actual, raised=bool((check or {}).get("error")) or not actual)
