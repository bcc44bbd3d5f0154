"""Evidence memory: failed checks as records, lessons from a template, recall as examples."""

import dataclasses

import pytest

from reflexion_graph import (
    ConfigurationError,
    LLMActor,
    LLMReflector,
    ReflexionContext,
    create_reflexion_agent,
    make_check,
    make_evaluation,
    make_lesson,
)
from reflexion_graph._check_text import check_line
from reflexion_graph._records import CONVENTIONS_KEY, conventions_of
from reflexion_graph.actors._llm import recalled_sections
from reflexion_graph.evaluators import (
    AllOf,
    CodeTestEvaluator,
    CountdownEvaluator,
    ExactMatchEvaluator,
    FunctionCallEvaluator,
    probe_isolation,
)
from reflexion_graph.evaluators._base import to_evaluation
from reflexion_graph.findings import Change, Finding, statement
from reflexion_graph.loop._evidence import distinct_checks, evidence_lesson
from reflexion_graph.loop._policy import recalled_lessons
from reflexion_graph.memory import ChromaLessonMemory
from reflexion_graph.memory._lessons import is_retired
from reflexion_graph.sandbox import Sandbox
from tests.fakes import BagOfWordsEmbeddings, RecordingMemory, ScriptedChatModel

TESTS = """
assert line_total(3.5, 2) == 700
assert line_total(10, 0) == 0
assert line_total(1, 1) > 5
"""
WRONG = """```python
def line_total(p, q):
    if q == 0:
        raise ValueError('no')
    return p * q
```"""


def attempt(number, evaluation, answer="an answer"):
    return {"number": number, "answer": answer, "evaluation": evaluation}


# -- checks as records, from each evaluator ----------------------------------------------------
def test_code_tests_record_each_failed_check_from_the_trusted_side():
    verdict = CodeTestEvaluator(TESTS).evaluate("t", WRONG)
    assert verdict["checks"] == [
        make_check("value", "line_total(3.5, 2)", expected="700", actual="7.0"),
        make_check("value", "line_total(10, 0)", expected="0", error="ValueError: no"),
        make_check("condition", "assert line_total(1, 1) > 5"),
    ]


def test_a_passing_answer_records_no_check():
    passing = "```python\ndef line_total(p, q):\n    return round(p * q * 100) or 6\n```"
    verdict = CodeTestEvaluator("assert line_total(3.5, 2) == 700").evaluate("t", passing)
    assert verdict["passed"] and verdict["checks"] == []


def test_function_calls_record_the_argument_expected_and_the_one_given():
    checker = FunctionCallEvaluator.exact("set_heat", {"target": 220, "room": "hall"})
    verdict = checker.evaluate("t", '{"name": "set_heat", "arguments": {"target": 22, "x": 1}}')
    assert verdict["checks"] == [
        make_check("argument", "set_heat(target=...)", expected="220", actual="22"),
        make_check("argument", "set_heat(room=...)", expected="'hall'"),
        make_check("argument", "set_heat(x=...)", actual="1"),
    ]
    wrong_name = checker.evaluate("t", '{"name": "heat", "arguments": {}}')
    assert wrong_name["checks"] == [
        make_check("answer", "the function called", expected="'set_heat'", actual="'heat'")
    ]


def test_answer_checkers_record_what_was_expected():
    verdict = ExactMatchEvaluator("42").evaluate("t", "Answer: 41")
    assert verdict["checks"] == [
        make_check("answer", "the final answer", expected="'42'", actual="'41'")
    ]
    assert "42" not in verdict["feedback"]  # the retry is still not told the answer
    countdown = CountdownEvaluator([2, 3, 4], 14).evaluate("t", "Answer: 2 + 3 * 4 - 1")
    assert countdown["checks"] == []  # 1 is not a given number: no value to compare
    countdown = CountdownEvaluator([2, 3, 4], 14).evaluate("t", "Answer: 2 * 3 + 4")
    assert countdown["checks"] == [make_check("answer", "2 * 3 + 4", expected="14", actual="10")]


def test_composites_keep_every_checks_record_and_callables_may_return_them():
    def wrong(task, answer):
        return {"passed": False, "checks": [{"kind": "answer", "check": "x", "expected": "1"}]}

    verdict = AllOf([wrong, ExactMatchEvaluator("a")]).evaluate("t", "Answer: b")
    assert [check["check"] for check in verdict["checks"]] == ["x", "the final answer"]
    with pytest.raises(ConfigurationError, match="'kind'"):
        to_evaluation({"passed": False, "checks": [{"check": "x"}]}, source="callable")


def test_sandbox_notes_never_enter_feedback_checks_or_evidence():
    gap = "bubblewrap is not installed: code can read the file system"
    sandbox = Sandbox(isolation=dataclasses.replace(probe_isolation(), missing=[gap]))
    verdict = CodeTestEvaluator(TESTS, sandbox=sandbox).evaluate("t", WRONG)
    lesson = evidence_lesson("t", [attempt(1, verdict)])
    shown = [verdict["feedback"], str(verdict["checks"]), lesson["text"], lesson["evidence"]]
    assert not any("sandbox" in text or "bubblewrap" in text for text in shown)


# -- the template ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "check, line",
    [
        (
            make_check("value", "f(1)", expected="700", actual="7.0"),
            "`f(1)` had to return `700`, not `7.0`",
        ),
        (
            make_check("value", "f(2)", expected="'a, b'", actual="['b']"),
            "`f(2)` had to return `'a, b'`, not `['b']`",
        ),
        (
            make_check("value", "f(3)", expected="'x'", actual="'y'"),
            "`f(3)` had to return `'x'`, not `'y'`",
        ),
        (
            make_check("value", "f(0)", expected="0", error="ValueError: no"),
            "`f(0)` had to return `0`, not raise `ValueError: no`",
        ),
        (make_check("condition", "assert ok(2)"), "`assert ok(2)` had to hold"),
        (
            make_check("argument", "heat(target=...)", expected="220", actual="22"),
            "`heat(target=...)` had to be `220`, not `22`",
        ),
        (
            make_check("argument", "heat(x=...)", actual="1"),
            "`heat(x=...)` had to be left out, not `1`",
        ),
        (
            make_check("answer", "the final answer", expected="42", actual="41"),
            "the final answer had to be `42`, not `41`",
        ),
    ],
)
def test_each_kind_of_check_has_its_line(check, line):
    assert check_line(check) == line


def test_a_runs_identical_checks_merge_the_most_often_failed_first():
    once = make_check("value", "f(1)", expected="1", actual="9")
    twice = make_check("value", "f(2)", expected="4", actual="7")
    again = make_check("value", "f(2)", expected="4", actual="8")
    assert distinct_checks([once, twice, again]) == [twice, once]
    lesson = evidence_lesson(
        "t",
        [
            attempt(1, make_evaluation(False, checks=[once, twice])),
            attempt(2, make_evaluation(False, checks=[again])),
        ],
    )
    assert (
        lesson["evidence"] == "`f(2)` had to return `4`, not `7`\n`f(1)` had to return `1`, not `9`"
    )
    assert lesson["text"].startswith("seen on an earlier task: `f(2)`")
    assert (lesson["source"], lesson["rule"], lesson["recalls"], lesson["helped"]) == (
        "evidence",
        "",
        0,
        0,
    )


def _verified(change_code: str) -> dict:
    change = Change("output", "total", change_code, cost=3, constants=1)
    return Finding(statement(change), change, "search", checks=3, fixed=2).to_record()


def test_an_evidence_lesson_keeps_each_verified_change_once_and_no_relation_of_one_pair():
    cents = [
        make_check("value", f"total([{n}])", expected=str(n * 100), actual=f"{n}.0") for n in (1, 2)
    ]
    found = make_evaluation(False, checks=cents, changes=[_verified("round(result * 100)")])
    again = make_evaluation(False, checks=cents, changes=[_verified("round(result * 100)")])
    lesson = evidence_lesson("t", [attempt(1, found), attempt(2, again)])
    assert conventions_of(lesson) == [
        "Return `round(result * 100)`, where `result` is the plain value (an earlier `total` "
        "passed every check once changed so)."
    ]
    plain = evidence_lesson("t", [attempt(1, make_evaluation(False, checks=cents))])
    assert conventions_of(plain) == [] and CONVENTIONS_KEY not in plain["metadata"]
    own = make_evaluation(
        False, source="self-tests", checks=cents, changes=[_verified("round(result * 100)")]
    )
    assert evidence_lesson("t", [attempt(1, own)]) is None  # self-judged: no lesson at all


def test_a_recalled_convention_is_listed_with_the_rules_and_its_checks_as_examples():
    evidence = {
        **make_lesson("seen on an earlier task: `f(1)` had to return `100`", task="a"),
        "source": "evidence",
        "metadata": {CONVENTIONS_KEY: "Return `result * 100` (an earlier `f` passed)."},
    }
    rule = make_lesson("Dates are DD.MM.YYYY.", task="b", rule="Dates are DD.MM.YYYY.")
    rules, examples = recalled_sections([evidence, rule])
    assert rules.index("- Dates are DD.MM.YYYY.") < rules.index("- Return `result * 100`")
    assert "`f(1)` had to return `100`" in examples and "result * 100" not in examples


def test_evidence_without_a_verified_change_is_shown_without_a_convention():
    shown = recalled_sections(
        [make_lesson("seen on an earlier task: x", task="t", source="evidence")]
    )
    assert len(shown) == 1 and "passed every check" not in shown[0]


def test_no_evidence_without_a_trusted_failed_check():
    own_test = make_evaluation(False, source="self-tests", checks=[make_check("condition", "x")])
    assert evidence_lesson("t", [attempt(1, own_test)]) is None
    assert evidence_lesson("t", [attempt(1, make_evaluation(False, feedback="no"))]) is None


# -- remember and recall in the graph ----------------------------------------------------------
def check_cents(task, answer):
    passed = answer.startswith("right")
    checks = [] if passed else [make_check("value", "total([1.5])", expected="150", actual="1.5")]
    return make_evaluation(
        passed, feedback="total([1.5]) returned 1.5, expected 150", checks=checks
    )


def graph_with(actor_replies, reflector_replies, memory):
    actor = ScriptedChatModel(replies=list(actor_replies))
    reflector = ScriptedChatModel(replies=list(reflector_replies))
    graph = create_reflexion_agent(
        evaluator=check_cents,
        actor=LLMActor(actor),
        reflector=LLMReflector(reflector),
        memory=memory,
    )
    return graph, actor, reflector


def test_evidence_is_stored_for_a_run_that_never_passed_with_no_model_call():
    memory = RecordingMemory()
    graph, _, _ = graph_with(["wrong", "wrong"], ["lesson"], memory)
    result = graph.invoke(
        {"task": "total of the prices"},
        context=ReflexionContext(max_attempts=2, remember="evidence"),
    )
    assert result["usage"]["model_calls"] == 3  # 2 attempts and 1 reflection: no writer call
    [stored] = memory.stored["global"]
    assert stored["text"] == (
        "seen on an earlier task: `total([1.5])` had to return `150`, not `1.5`"
    )
    assert (stored["task"], stored["source"]) == ("total of the prices", "evidence")
    assert result["stored"] == [stored]  # the remember node reports what it stored


def test_evidence_and_hindsight_keeps_the_checks_and_the_verified_rule():
    memory = RecordingMemory()
    rule = "When a total is asked for, return integer cents."
    graph, _, _ = graph_with(["wrong", "right", "right again"], ["lesson", rule], memory)
    graph.invoke({"task": "t"}, context=ReflexionContext(remember="evidence_and_hindsight"))
    assert [lesson["source"] for lesson in memory.stored["global"]] == ["evidence", "contrast"]
    assert memory.stored["global"][1]["text"] == rule


def test_a_sibling_task_sees_the_evidence_as_examples_and_credits_it():
    failed = {**check_cents("t", "wrong"), "changes": [_verified("round(result * 100)")]}
    earlier = evidence_lesson("total of the prices", [attempt(1, failed)])
    memory = RecordingMemory([earlier])
    graph, actor, _ = graph_with(["right"], [], memory)
    result = graph.invoke(
        {"task": "sum of the fees"}, context=ReflexionContext(remember="evidence")
    )
    system = actor.prompt_text(0)
    convention = "- Return `round(result * 100)`, where `result` is the plain value"
    assert convention in system
    assert "Checks that attempts at earlier, similar tasks failed" in system
    assert system.index(convention) < system.index("`total([1.5])` had to return `150`")
    assert [lesson["id"] for lesson in result["recalled"]] == [earlier["id"]]
    assert memory.usage == [([earlier["id"]], True, "global")]


def test_recall_splits_rules_and_evidence_and_never_shows_a_task_its_own_checks():
    rules = [make_lesson(f"rule {n}", task="t", rule=f"rule {n}") for n in range(3)]
    own = {**make_lesson("own", task="this task", source="evidence"), "id": "own"}
    others = [make_lesson(f"ev {n}", task=f"task {n}", source="evidence") for n in range(3)]
    found = [own, *others, *rules]
    context = ReflexionContext(recall_k=1, recall_evidence=2)
    chosen = recalled_lessons("this task", [], found, context)
    assert [lesson["text"] for lesson in chosen] == ["rule 0", "ev 0", "ev 1"]
    none = recalled_lessons("this task", [], found, ReflexionContext(recall_evidence=0))
    assert all(lesson["source"] != "evidence" for lesson in none)


def test_recall_evidence_is_checked_like_the_other_counts():
    with pytest.raises(ConfigurationError, match="recall_evidence"):
        ReflexionContext(recall_evidence=-1)


# -- merging, credit and retirement in Chroma ------------------------------------------------
@pytest.fixture
def chroma(tmp_path):
    return ChromaLessonMemory(path=tmp_path / "memory", embeddings=BagOfWordsEmbeddings())


def test_identical_checks_merge_their_counts_and_never_merge_into_a_rule(chroma):
    verdict = check_cents("t", "wrong")
    first = evidence_lesson("total of the prices", [attempt(1, verdict, "a")])
    second = evidence_lesson("total of the prices", [attempt(1, verdict, "b")])
    rule = {
        **make_lesson("When a total, cents.", task="total of the prices", rule="cents"),
        "evidence": first["evidence"],
    }
    chroma.save([first], scope="s")
    chroma.save([second, rule], scope="s")
    stored = {lesson["source"]: lesson for lesson in chroma.lessons(scope="s")}
    assert chroma.count(scope="s") == 2
    assert stored["evidence"]["merged"] == 2 and stored["given"]["text"] == "When a total, cents."


def test_evidence_that_keeps_failing_is_retired(chroma):
    lesson = evidence_lesson("total of the prices", [attempt(1, check_cents("t", "wrong"))])
    chroma.save([lesson], scope="s")
    for passed in (True, False, False, False, False):
        assert chroma.search("total of the prices", k=1, scope="s")
        chroma.record_usage([lesson["id"]], passed=passed, scope="s")
    [stored] = chroma.lessons(scope="s")
    assert (stored["recalls"], stored["helped"]) == (5, 1)
    assert is_retired(stored["recalls"], stored["helped"])
    assert chroma.search("total of the prices", k=1, scope="s") == []


# -- recalled conventions, checked again ----------------------------------------------------
SHARE_TESTS = "assert share(1, 4) == 25\nassert share(1, 2) == 50\nassert share(0, 3) == 0"
RATIO = "```python\ndef share(part, whole):\n    return part / whole\n```"
PERCENT = "```python\ndef share(part, whole):\n    return round(part / whole * 100)\n```"


def _recalled_convention(change_code: str) -> dict:
    failed = make_evaluation(False, checks=[], changes=[_verified(change_code)])
    checks = [make_check("value", "total([1])", expected="100", actual="1.0")]
    return evidence_lesson("total of the prices", [attempt(1, {**failed, "checks": checks})])


@pytest.mark.parametrize(
    "change_code, confirmed", [("round(result * 100)", True), ("result + 1", False)]
)
def test_a_recalled_convention_is_checked_again_on_the_first_failed_answer_and_credited(
    change_code, confirmed
):
    lesson = _recalled_convention(change_code)
    memory = RecordingMemory([lesson])
    actor = ScriptedChatModel(replies=[RATIO, PERCENT])
    graph = create_reflexion_agent(
        evaluator=CodeTestEvaluator(SHARE_TESTS, entry_point="share"),
        actor=LLMActor(actor),
        reflector=LLMReflector(ScriptedChatModel(replies=["Mistake: x. Rule: y. Fix: z."])),
        memory=memory,
    )
    context = ReflexionContext(max_attempts=2, remember="evidence")
    result = graph.invoke({"task": "share of a whole"}, context=context)
    first = result["attempts"][0]["evaluation"]
    assert first["rechecked"] == {lesson["id"]: confirmed}
    told = "Verified change (a convention of earlier tasks): Every check passes once `share` "
    assert (told in first["feedback"]) is confirmed
    assert ([lesson["id"]], confirmed, "global") in memory.usage  # credited, or counted against
    assert result["attempts"][1]["evaluation"]["passed"]


def test_approval_takes_its_decision_from_the_adapter():
    from reflexion_graph.loop._policy import approved

    lesson = make_lesson("rule", task="t", rule="rule")
    asked = ReflexionContext(approve_lessons=True)
    assert approved([lesson], asked, lambda lessons: [lesson["id"]]) == [lesson]
    assert approved([lesson], asked, lambda lessons: False) == []
    edited = approved([lesson], asked, lambda lessons: [{"id": lesson["id"], "text": "better"}])
    assert edited[0]["text"] == "better"
    assert approved([lesson], ReflexionContext(), lambda lessons: False) == [lesson]  # not asked
    with pytest.raises(ConfigurationError, match="unknown lesson 'nope'"):
        approved([lesson], asked, lambda lessons: ["nope"])


def test_a_verified_shift_by_one_is_told_within_the_task_but_never_kept_as_a_convention():
    shift = Change("output", "weekday", "result + 1", 2, 1, kept=False)
    found = Finding(statement(shift), shift, "search", checks=3, fixed=2).to_record()
    checks = [make_check("value", "weekday(1)", expected="2", actual="1")]
    lesson = evidence_lesson(
        "t", [attempt(1, make_evaluation(False, checks=checks, changes=[found]))]
    )
    assert conventions_of(lesson) == [] and CONVENTIONS_KEY not in lesson["metadata"]
