import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from reflexion_graph import (
    ConfigurationError,
    LLMActor,
    LLMReflector,
    create_reflexion_agent,
    make_evaluation,
)
from reflexion_graph.evaluators import (
    AllOf,
    HumanEvaluator,
    LLMJudge,
    RubricJudge,
    SelfTestEvaluator,
    Weighted,
)
from reflexion_graph.evaluators.code._self_tests import filter_tests, parse_asserts, task_examples
from tests.fakes import ScriptedChatModel


def test_judge_well_formed():
    model = ScriptedChatModel(replies=['{"passed": true, "score": 0.9, "reason": "correct"}'])
    verdict = LLMJudge(model).evaluate("t", "a")
    assert verdict == make_evaluation(True, 0.9, feedback="correct", source="judge")


def test_judge_retries_once_on_malformed_output_then_gives_up_cleanly():
    model = ScriptedChatModel(
        replies=["sure, it is fine", '{"passed": false, "score": 0.2, "reason": "wrong unit"}']
    )
    assert LLMJudge(model).evaluate("t", "a")["feedback"] == "wrong unit"
    assert "Reply with the JSON object only" in model.prompt_text(1)
    hopeless = ScriptedChatModel(replies=["no", "still no"])
    verdict = LLMJudge(hopeless).evaluate("t", "a")
    assert not verdict["passed"] and verdict["feedback"].startswith("unparseable judge output")


def test_judge_keeps_the_verdict_when_the_score_is_off_scale():
    model = ScriptedChatModel(replies=['{"passed": true, "score": 7}'])
    assert LLMJudge(model).evaluate("t", "a")["score"] == 1.0
    model = ScriptedChatModel(replies=['{"passed": "yes"}', "{}"])
    assert LLMJudge(model).evaluate("t", "a")["feedback"].startswith("unparseable")


def test_rubric_scales_aspects_and_names_missing_ones():
    reply = (
        '{"ratings": {"factuality": 5, "completeness": 3, "readability": 9}, '
        '"feedback": "add an example"}'
    )
    judge = RubricJudge(
        ScriptedChatModel(replies=[reply]), aspects=["factuality", "completeness", "readability"]
    )
    verdict = judge.evaluate("t", "a")
    assert verdict["aspects"] == {"factuality": 1.0, "completeness": 0.5}
    assert verdict["score"] == 0.75 and verdict["passed"]
    assert "(not rated: readability)" in verdict["feedback"]
    assert "weakest aspect: completeness" in verdict["feedback"]
    assert verdict["source"] == "rubric"


def test_rubric_with_nothing_usable_is_unparseable_not_a_crash():
    judge = RubricJudge(ScriptedChatModel(replies=['{"ratings": "great"}', "[1, 2"]))
    assert judge.evaluate("t", "a")["feedback"].startswith("unparseable judge output")
    with pytest.raises(ConfigurationError, match="scale low < high"):
        RubricJudge(ScriptedChatModel(replies=[]), scale=(5, 1))


async def test_judges_async_twin():
    model = ScriptedChatModel(replies=["bad", '{"passed": true, "score": 1, "reason": "ok"}'])
    assert (await LLMJudge(model).aevaluate("t", "a"))["passed"]


def test_all_of_and_weighted():
    yes = lambda task, answer: make_evaluation(True, feedback="", source="a")  # noqa: E731
    half = lambda task, answer: make_evaluation(False, 0.5, feedback="meh", source="b")  # noqa: E731
    both = AllOf([yes, half]).evaluate("t", "x")
    assert not both["passed"] and both["score"] == 0.75 and both["source"] == "a+b"
    assert both["feedback"] == "[b] meh"
    weighted = Weighted([yes, half], [3, 1], pass_threshold=0.8).evaluate("t", "x")
    assert weighted["passed"] and weighted["score"] == pytest.approx(0.875)
    with pytest.raises(ConfigurationError, match="one non-negative weight"):
        Weighted([yes], [0])


@pytest.mark.parametrize(
    "resume,passed,score",
    [
        (True, True, 1.0),
        (0.4, False, 0.4),
        ({"passed": False, "feedback": "too long"}, False, 0.0),
    ],
)
def test_human_verdict_through_interrupt(resume, passed, score):
    graph = create_reflexion_agent(
        evaluator=HumanEvaluator(),
        actor=LLMActor(ScriptedChatModel(replies=["draft"])),
        reflector=LLMReflector(ScriptedChatModel(replies=[])),
        checkpointer=InMemorySaver(),
    )
    config = {"configurable": {"thread_id": "human"}}
    paused = graph.invoke({"task": "write a haiku"}, config, context={"max_attempts": 1})
    [request] = paused["__interrupt__"]
    assert request.value["answer"] == "draft" and request.value["task"] == "write a haiku"
    result = graph.invoke(Command(resume=resume), config, context={"max_attempts": 1})
    verdict = result["attempts"][0]["evaluation"]
    assert (verdict["passed"], verdict["score"], verdict["source"]) == (passed, score, "human")


TASK = "Write a Python function double(x) that returns twice x.\nassert double(2) == 4"
BAD_SELF_TESTS = (
    "```python\nassert double(2) == 5\nassert double(3) == 7\nassert double(0) == 1\n```"
)
WRONG = "```python\ndef double(x):\n    return 2 * x + 1\n```"


def test_examples_and_asserts_are_parsed_from_text():
    assert task_examples(TASK + "\n>>> double(5)\n10") == [("double(2)", "4"), ("double(5)", "10")]
    assert parse_asserts("x\nassert f(1) == 2\nassert (\nassert g() is True") == [
        "assert f(1) == 2",
        "assert g() is True",
    ]
    assert filter_tests(
        ["assert double(2) == 5", "assert double(9) == 18"], [("double(2)", "4")]
    ) == ["assert double(9) == 18"]


def test_a_wrong_candidate_passing_bad_self_tests_is_caught_by_the_filter():
    unguarded_tests = "\n".join(parse_asserts(BAD_SELF_TESTS))
    from reflexion_graph.evaluators import CodeTestEvaluator

    assert CodeTestEvaluator(unguarded_tests).evaluate("t", WRONG)["passed"]  # fooled

    model = ScriptedChatModel(replies=[BAD_SELF_TESTS])
    guarded = SelfTestEvaluator(model, min_tests=2)
    verdict = guarded.evaluate(TASK, WRONG)
    assert not verdict["passed"] and verdict["source"] == "self-tests"
    assert "assert double(2) == 4  (expected 4, got 5)" in verdict["feedback"]
    assert guarded.tests_for(TASK)[0] == "assert double(2) == 4"
    assert len(model.prompts) == 1  # written once, reused for every attempt
    assert guarded.evaluate(TASK, "def double(x):\n    return x * 2")["score"] < 1.0


def test_too_few_usable_self_tests_trigger_one_more_try():
    model = ScriptedChatModel(
        replies=["no tests", "```python\nassert f(1) == 1\nassert f(2) == 2\nassert f(3) == 3\n```"]
    )
    tests = SelfTestEvaluator(model).tests_for("Write f(x) returning x.")
    assert len(tests) == 3 and len(model.prompts) == 2


def test_self_written_tests_propose_no_finding():
    """A change fitted to the model's own tests is no fact about the task: no lesson from it."""
    tests = "assert double(2) == 400\nassert double(3) == 600"
    answer = "```python\ndef double(x):\n    return x * 2\n```"
    from reflexion_graph.evaluators import CodeTestEvaluator

    plain = "\n".join(parse_asserts(tests))
    assert CodeTestEvaluator(plain).evaluate("t", answer)["findings"]  # the tests' own would
    writer = SelfTestEvaluator(ScriptedChatModel(replies=[tests]), min_tests=2)
    verdict = writer.evaluate("Write double(x).", answer)
    assert not verdict["passed"] and not verdict.get("findings")


def test_self_tests_are_planned_once_per_task_and_written_with_no_lock_held():
    held = []

    class Watching(ScriptedChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            held.append(writer._lock.locked())
            return super()._generate(messages, stop, run_manager, **kwargs)

    writer = SelfTestEvaluator(
        Watching(replies=["assert double(2) == 4\nassert double(3) == 6"]), min_tests=2
    )
    answer = "def double(x):\n    return x * 2"
    assert writer.evaluate("Write double(x).", answer)["passed"]
    judge = writer._judge("Write double(x).")
    assert writer.evaluate("Write double(x).", answer)["passed"]
    assert writer._judge("Write double(x).") is judge and held == [False]
