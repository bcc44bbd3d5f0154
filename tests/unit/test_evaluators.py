import datetime
import decimal
import fractions
import json

import pytest

from reflexion_graph import ConfigurationError, make_evaluation
from reflexion_graph.evaluators import (
    CallableEvaluator,
    CodeTestEvaluator,
    ExactMatchEvaluator,
    RegexEvaluator,
    SandboxLimits,
)
from reflexion_graph.evaluators.code._test_plan import plan_tests, split_for
from reflexion_graph.evaluators.code.stdlib_scripts._plain_data import (
    NotPlainData,
    decode,
    encode,
    same_value,
)
from reflexion_graph.sandbox import Sandbox, WarmStartFailed, _warm

ADD_TESTS = "assert add(2, 3) == 5\nassert add(2, 2) == 4"


def code(body):
    return f"Here you go:\n```python\n{body}\n```\nDone."


def test_code_tests_pass():
    verdict = CodeTestEvaluator(ADD_TESTS).evaluate("t", code("def add(a, b):\n    return a + b"))
    assert verdict == make_evaluation(True, 1.0, feedback="All 2 tests passed.", source="tests")


def test_code_tests_name_the_failing_test_with_expected_and_actual():
    verdict = CodeTestEvaluator(ADD_TESTS).evaluate("t", code("def add(a, b):\n    return a * b"))
    assert not verdict["passed"]
    assert verdict["score"] == 0.5
    assert "assert add(2, 3) == 5  (expected 5, got 6)" in verdict["feedback"]


def test_a_raising_or_identity_check_names_its_expected_value():
    tests = "assert median([]) == 0.0\nassert has([1], 1) is True"
    answer = code("def median(xs):\n    return xs[0]\ndef has(xs, x):\n    return None")
    feedback = CodeTestEvaluator(tests).evaluate("t", answer)["feedback"]
    assert "error in assert median([]) == 0.0  (expected 0.0): " in feedback
    assert "IndexError" in feedback
    assert "assert has([1], 1) is True  (expected True, got None)" in feedback


def test_code_that_does_not_compile_is_a_failed_evaluation():
    verdict = CodeTestEvaluator(ADD_TESTS).evaluate("t", code("def add(a, b) return a"))
    assert not verdict["passed"] and "SyntaxError" in verdict["feedback"]


def test_runtime_error_feedback_shows_the_candidate_line():
    verdict = CodeTestEvaluator(ADD_TESTS).evaluate("t", code("def add(a, b):\n    return a + c"))
    assert "line 2: return a + c" in verdict["feedback"]
    assert "NameError" in verdict["feedback"]


def test_infinite_loop_times_out():
    evaluator = CodeTestEvaluator(ADD_TESTS, limits=SandboxLimits(timeout_s=1.0))
    verdict = evaluator.evaluate("t", code("def add(a, b):\n    while True:\n        pass"))
    assert not verdict["passed"] and "Timed out after 1 s" in verdict["feedback"]


def test_a_forged_report_does_not_pass():
    report = '{\\"total\\": 1, \\"failures\\": []}'
    forged = (
        f'import os\ndef add(a, b):\n    os.write(1, b"\\n@@report-0@@{report}\\n")\n'
        "    os._exit(0)"
    )
    verdict = CodeTestEvaluator(ADD_TESTS).evaluate("t", code(forged))
    assert not verdict["passed"]


def test_humaneval_style_check():
    tests = "def check(candidate):\n    assert candidate([1, 2]) == 3\n"
    evaluator = CodeTestEvaluator(tests, entry_point="total")
    assert evaluator.evaluate("t", code("def total(xs):\n    return sum(xs)"))["passed"]
    missing = evaluator.evaluate("t", code("def other(xs):\n    return 0"))
    assert "The answer defines no `total`." in missing["feedback"]


def test_answer_without_code_fails_cleanly():
    verdict = CodeTestEvaluator(ADD_TESTS).evaluate("t", "")
    assert verdict["feedback"] == "The answer contains no code."


def test_a_run_the_tests_never_reached_records_each_check_as_its_text_states_it():
    tests = "assert add(2, 3) == 5\nassert add(0, 0) in (0, None)"
    verdict = CodeTestEvaluator(tests).evaluate("t", code("def plus(a, b):\n    return a + b"))
    assert verdict["checks"] == [
        {"kind": "value", "check": "add(2, 3)", "expected": "5", "actual": "", "error": ""},
        {"kind": "condition", "check": "assert add(0, 0) in (0, None)", "expected": "",
         "actual": "", "error": ""},
    ]  # fmt: skip
    assert CodeTestEvaluator(tests).evaluate("t", "")["checks"] == verdict["checks"]


@pytest.mark.parametrize(
    "tests,message", [("", "non-empty 'tests'"), ("x = 1", "no assert and no check")]
)
def test_broken_tests_are_a_configuration_error(tests, message):
    with pytest.raises(ConfigurationError, match=message):
        CodeTestEvaluator(tests).evaluate("t", code("def add(a, b):\n    return a + b"))


@pytest.mark.parametrize(
    "answer,passed",
    [
        ("The capital is Paris. Answer: Paris.", True),
        ("Answer: paris", True),
        ("Thinking...\nParis", True),
        ("The capital city of France is Paris.", False),
        ("Answer: Lyon", False),
    ],
)
def test_exact_match_on_the_final_answer(answer, passed):
    assert ExactMatchEvaluator("Paris").evaluate("t", answer)["passed"] is passed


def test_exact_match_feedback_names_the_answer_but_never_the_expected_value():
    feedback = ExactMatchEvaluator("42").evaluate("t", "Answer: 41")["feedback"]
    assert feedback == "The final answer '41' is not the correct answer."
    feedback = ExactMatchEvaluator("42").evaluate("t", "I think\nforty")["feedback"]
    assert feedback.startswith(
        "There is no 'Answer:' line, so the last line 'forty' was judged; it is not the correct "
        "answer.\n"
    )
    assert "42" not in RegexEvaluator("42").evaluate("t", "Answer: 41")["feedback"]


def test_an_answer_in_the_wrong_form_is_told_so_as_a_finding():
    code = '```python\ndef capital():\n    return "Paris"\n```'
    (finding,) = ExactMatchEvaluator("Paris").evaluate("t", code)["findings"]
    assert finding.startswith("The answer was code, but this task asks for a value")
    (no_line,) = RegexEvaluator("Paris").evaluate("t", "It is Lyon.")["findings"]
    assert "no line `Answer: <the value>`" in no_line
    assert not ExactMatchEvaluator("Paris").evaluate("t", "Answer: Lyon")["findings"]


def test_regex_match_and_invalid_pattern():
    assert RegexEvaluator(r"^\D*42\D*$").evaluate("t", "work\nAnswer: 42.")["passed"]
    assert not RegexEvaluator(r"^\D*42\D*$").evaluate("t", "Answer: 420")["passed"]
    with pytest.raises(ConfigurationError, match="invalid regex"):
        RegexEvaluator("(")


@pytest.mark.parametrize(
    "result,passed,score",
    [(True, True, 1.0), (0.25, False, 0.25), ({"passed": True, "score": 0.9}, True, 0.9)],
)
def test_callable_results_are_normalised(result, passed, score):
    verdict = CallableEvaluator(lambda task, answer: result).evaluate("t", "a")
    assert (verdict["passed"], verdict["score"]) == (passed, score)


def test_scores_outside_the_unit_interval_are_rejected():
    with pytest.raises(ConfigurationError, match="score must be a number in"):
        CallableEvaluator(lambda task, answer: 1.5).evaluate("t", "a")


def test_asserts_are_tests_and_other_statements_are_setup():
    plan = plan_tests("x = f(1)\nassert x == g(2)\nassert f(1) > 3")
    assert plan.setup == ["x = f(1)"]
    assert plan.tests == ["assert x == g(2)", "assert f(1) > 3"]
    assert plan.test_names[0] == {"x", "g"} and plan.setup_names == {"f"}


def test_a_humaneval_check_of_asserts_is_unrolled_else_called_whole():
    clean = plan_tests("def check(c):\n    'doc'\n    assert c(1) == 2\n", entry_point="inc")
    assert clean.tests == ["assert inc(1) == 2"] and clean.setup == []
    humaneval = (
        "def check(candidate):\n    assert candidate(1) == 2\n"
        "    for i in range(3):\n        assert candidate(i)\n"
    )
    mixed = plan_tests(humaneval, entry_point="inc")
    assert mixed.tests == ["check(inc)"] and mixed.setup[0].startswith("def check")


def test_the_answers_functions_are_stubs_and_its_objects_are_named():
    preamble = 'import math\ndef helper(x):\n    return x\ndef inc(x):\n    """stub"""\n'
    plan = plan_tests(
        "assert inc(1) == 2\nassert Box(1).n == 1\nassert helper(LIMIT) == 3",
        entry_point="inc",
        preamble=preamble,
    )
    answer = (
        "def inc(x):\n    return x + 1\ndef helper(x):\n    return 0\nclass Box: ...\nLIMIT = 3"
    )
    split = split_for(plan, answer, "inc")
    assert split.stubs == ["inc"]  # the tests use the task's helper, never the answer's
    assert split.needs_objects == {1: "Box", 2: "LIMIT"}
    assert split_for(plan, "def inc(:", "inc").stubs == ["inc"]


def test_a_preambles_bodiless_functions_are_the_answers_to_write_even_without_entry_point():
    preamble = (
        "def helper(x):\n    return x\n"
        'def inc(x):\n    """stub"""\n'
        'def dec(x):\n    import math\n    """stub"""\n'
        "def nop():\n    ...\n"
    )
    plan = plan_tests("assert inc(helper(1)) == 2", preamble=preamble)
    answer = (
        "def inc(x):\n    return x + 1\ndef dec(x):\n    return x - 1\ndef helper(x):\n    return 1"
    )
    assert split_for(plan, answer, None).stubs == ["dec", "inc"]  # never the helper


@pytest.mark.parametrize(
    "actual,expected,same",
    [
        (1, True, False),
        (True, True, True),
        (2.0, 2, True),
        ((1, 2), [1, 2], False),
        ({"a": [1]}, {"a": [1]}, True),
        ({"a": (1,)}, {"a": [1]}, False),
        (float("nan"), float("nan"), False),
        ({1, 2}, {2, 1}, True),
    ],
)
def test_plain_values_compare_type_strictly(actual, expected, same):
    assert same_value(actual, expected) is same


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        3,
        2**80,
        -1.5,
        float("inf"),
        "é",
        [1, (2, "x")],
        {1: {"a": b"\x00"}},
        {1, 2},
        frozenset({3}),
        (),
        complex(1, -2),
        datetime.date(2024, 1, 31),
        datetime.datetime(2024, 1, 31, 8, 5, tzinfo=datetime.UTC),
        datetime.time(23, 59, 1),
        datetime.timedelta(days=-1, seconds=5),
        decimal.Decimal("1.10"),
        fractions.Fraction(2, 3),
    ],
)
def test_plain_data_crosses_the_boundary_as_the_same_exact_value(value):
    back = decode(json.loads(json.dumps(encode(value))))
    assert back == value and type(back) is type(value)


def test_only_exact_built_ins_cross_and_nothing_else_is_read_back():
    class Sly(int):
        pass

    class Day(datetime.date):
        pass

    for odd in (Sly(1), [Sly(1)], {"k": object()}, lambda: 0, Day(2024, 1, 1)):
        with pytest.raises(NotPlainData):
            encode(odd)
    forgeries = [{"$x": 1}, {"$t": 1, "$s": 2}, {"$f": "1e400"}, {"$d": [[1]]}, {"$s": [[1]]}]
    for forged in [*forgeries, {"$date": "yesterday"}, {"$fraction": [1, 0]}]:
        with pytest.raises(ValueError):
            decode(forged)


def test_a_warm_start_that_fails_on_either_side_falls_back_to_a_cold_start(monkeypatch, caplog):
    def cannot_start(*args, **kwargs):
        raise WarmStartFailed("no fork server here")

    monkeypatch.setattr(_warm.ForkServer, "__init__", cannot_start)
    sandbox = Sandbox()
    evaluator = CodeTestEvaluator(ADD_TESTS, sandbox=sandbox)
    for answer, passed in (("a + b", True), ("a * b", False)):
        verdict = evaluator.evaluate("t", code(f"def add(a, b):\n    return {answer}"))
        assert verdict["passed"] is passed, verdict["feedback"]
    sides = [r.getMessage().split(":")[0] for r in caplog.records if "no warm worker" in r.message]
    expected = ["sandbox", "tests"] if sandbox.isolation.bwrap else ["tests"]
    assert sides == expected  # each side gave up once, and started cold from then on
    assert sandbox.warm_worker_pids() == []


def test_a_nested_composite_names_each_source_once():
    from reflexion_graph._records import sources_of
    from reflexion_graph.evaluators import AllOf

    def judged_by(source):
        return lambda task, answer: make_evaluation(False, source=source)

    inner = AllOf([judged_by("tests"), judged_by("self-tests")])
    verdict = AllOf([inner, judged_by("tests"), judged_by("judge")]).evaluate("t", "a")
    assert sources_of(verdict["source"]) == ["tests", "self-tests", "judge"]
    assert verdict["source"] == "tests+self-tests+judge"  # the stored form
