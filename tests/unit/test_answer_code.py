"""A user's task judged as written: the function the checks call, and fresh lessons."""

from reflexion_graph import LLMActor, LLMReflector, ReflexionContext, create_reflexion_agent
from reflexion_graph.evaluators import CodeTestEvaluator, SelfTestEvaluator
from reflexion_graph.evaluators.code._answer_code import answer_code, names_used
from reflexion_graph.reflectors._llm import lesson_text, repeats, rule_of
from tests.fakes import ScriptedChatModel

TESTS = 'assert has_tag("<b>x</b>", "B") is True\nassert has_tag("x", "b") is False'
FUNCTION = """```python
def has_tag(html, tag):
    return f"<{tag.lower()}>" in html.lower()
```"""
OWN_TESTS = """```python
def check_function():
    assert has_tag("<b>x</b>", "b") == True
    assert has_tag("<i>", "b") == True, "Test case 2 failed"
    print("All tests passed")

check_function()
assert has_tag("x", "b")
if __name__ == "__main__":
    print(has_tag("<b>", "b"))
```"""


def test_the_function_is_found_in_the_shorter_block_and_the_models_tests_are_not_run():
    answer = f"Here is the function:\n{FUNCTION}\nAnd some tests:\n{OWN_TESTS}"
    verdict = CodeTestEvaluator(TESTS).evaluate("t", answer)
    assert verdict["passed"], verdict["feedback"]
    assert (
        "Not run (the answer's own checks or demo code): `check_function()`" in verdict["feedback"]
    )
    assert 'the `if __name__ == "__main__":` block' in verdict["feedback"]
    assert "Test case 2 failed" not in verdict["feedback"]


def test_helpers_imports_and_constants_the_function_uses_are_kept():
    answer = """```python
import re
TAG = re.compile(r"<(\\w+)>")
def tags(html):
    return [t.lower() for t in TAG.findall(html)]
unused = [1, 2, 3]
def has_tag(html, tag):
    return tag.lower() in tags(html)
print(has_tag("<b>", "b"))
```"""
    judged = answer_code(answer, names_used([TESTS]))
    assert "TAG = re.compile" in judged.code and "def tags" in judged.code
    assert "unused" not in judged.code and "print(" not in judged.code
    assert judged.left_out == ["`print(has_tag('<b>', 'b'))`"]
    assert CodeTestEvaluator(TESTS).evaluate("t", answer)["passed"]


def test_an_answer_that_defines_no_called_function_is_told_so_plainly():
    verdict = CodeTestEvaluator(TESTS).evaluate(
        "t", OWN_TESTS.replace("def check_function", "def c")
    )
    assert not verdict["passed"]
    assert verdict["feedback"].startswith("The answer defines no `has_tag`.")


def test_a_syntax_error_in_the_only_definition_is_what_the_verdict_reports():
    broken = "```python\ndef has_tag(html, tag)\n    return True\n```"
    verdict = CodeTestEvaluator(TESTS).evaluate("t", f"{broken}\n{OWN_TESTS}")
    assert not verdict["passed"] and "SyntaxError" in verdict["feedback"]


def test_the_self_test_evaluator_takes_the_same_rule():
    evaluator = SelfTestEvaluator(ScriptedChatModel(replies=[]))
    evaluator.use_tests("t", ['assert has_tag("<b>x</b>", "b") is True'])
    verdict = evaluator.evaluate("t", f"{FUNCTION}\n{OWN_TESTS}")
    assert verdict["passed"] and verdict["source"] == "self-tests"


# -- fresh lessons ---------------------------------------------------------------------------------
LESSON = "Mistake: `has_tag` is not defined.\nRule: define every function.\nFix: define it."


def run_with_reflector(replies):
    reflector = ScriptedChatModel(replies=list(replies))
    graph = create_reflexion_agent(
        evaluator=lambda task, answer: answer == "right",
        actor=LLMActor(ScriptedChatModel(replies=["w1", "w2", "w3"])),
        reflector=LLMReflector(reflector),
    )
    result = graph.invoke({"task": "t"}, context=ReflexionContext(max_attempts=3))
    return result["reflections"], reflector


def test_a_repeated_lesson_is_asked_for_once_more_with_that_said():
    fresh = "Mistake: letter case.\nRule: compare case-insensitively.\nFix: lower()."
    reflections, reflector = run_with_reflector([LESSON, LESSON, fresh])
    assert [r["text"] for r in reflections] == [" ".join(LESSON.split()), " ".join(fresh.split())]
    assert "repeats one you wrote earlier" in reflector.prompt_text(2)
    assert not reflections[1]["metadata"]["fallback"]


def test_a_lesson_repeated_twice_is_replaced_by_the_verdicts_feedback():
    same_mistake = "Mistake: `has_tag` is not defined.\nRule: other words.\nFix: other."
    reflections, _ = run_with_reflector([LESSON, same_mistake, same_mistake])
    second = reflections[1]
    assert second["text"].startswith("The previous attempt failed:")
    assert (second["metadata"]["fallback"], second["metadata"]["fallback_reason"]) == (
        True,
        "repeated",
    )


def test_what_counts_as_a_repeat():
    earlier = [{"text": "Mistake: x was 1.  Rule: a. Fix: b."}]
    assert repeats("mistake: X was 1. Rule: c. Fix: d.", earlier)
    assert repeats("Mistake: x was 1.  Rule: a. Fix: b.", earlier)
    assert not repeats("Mistake: x was 2. Rule: a. Fix: b.", earlier)
    assert not repeats("anything", [])


def test_markdown_does_not_make_a_lesson_new():
    earlier = [{"text": "### Mistake The list was empty. ### Rule Empty gives 0. ### Fix Check."}]
    assert repeats("**Mistake:** The list was empty. **Rule:** other. **Fix:** other.", earlier)
    assert repeats("## Mistake: the list was empty. Rule: other.", earlier)
    assert not repeats("**Mistake:** The list had one item. **Rule:** x.", earlier)


def test_a_lesson_is_kept_with_its_labels_written_plainly():
    text = lesson_text("### Mistake\nIt raised.\n**Rule:** Empty gives 0.\n__Fix__: return 0.")
    assert text == "Mistake: It raised. Rule: Empty gives 0. Fix: return 0."
    assert rule_of(text) == "Empty gives 0."
    assert lesson_text("the **mistake** was mine") == "the **mistake** was mine"


def test_names_the_tests_bind_themselves_are_not_the_answers_to_define():
    tests = [
        "def raised(call):\n    try:\n        call()\n    except ValueError as error:\n"
        "        return str(error)",
        "def check(candidate):\n    for x in range(3):\n        assert candidate(x) == helper(x)",
        "assert raised(lambda: parse(''))",
    ]
    assert names_used(tests) == {"helper", "parse"}
    assert names_used(["assert check(truncate) is None"]) == {"check", "truncate"}


# -- lessons found by a verified change ------------------------------------------------------------
def test_a_failure_a_verified_change_explains_gets_the_found_lesson_without_a_reflector_call():
    case_sensitive = "```python\ndef has_tag(html, tag):\n    return f'<{tag}>' in html\n```"
    actor = ScriptedChatModel(replies=[case_sensitive, FUNCTION])
    reflector = ScriptedChatModel(replies=[])
    graph = create_reflexion_agent(
        evaluator=CodeTestEvaluator(TESTS),
        actor=LLMActor(actor),
        reflector=LLMReflector(reflector),
    )
    result = graph.invoke({"task": "t"}, context=ReflexionContext(max_attempts=2))
    (lesson,) = result["reflections"]
    assert result["attempts"][-1]["evaluation"]["passed"] and not reflector.prompts
    assert lesson["text"] == (
        "Found by checking the failed answer: Every check passes once `has_tag` starts with "
        "`tag = tag.lower()`: put that first and keep the rest as it is."
    )
    assert lesson["metadata"]["fallback_reason"] == "found"
    assert "starts with `tag = tag.lower()`" in actor.prompt_text(1)


def test_every_reflector_gets_a_finding_as_the_lesson_without_being_called():
    from reflexion_graph import BaseReflector

    class NeverCalled(BaseReflector):
        def reflect(self, task, attempt, *, earlier=()):
            raise AssertionError("a finding is the lesson: the reflector is not asked")

    case_sensitive = "```python\ndef has_tag(html, tag):\n    return f'<{tag}>' in html\n```"
    graph = create_reflexion_agent(
        evaluator=CodeTestEvaluator(TESTS),
        actor=LLMActor(ScriptedChatModel(replies=[case_sensitive, FUNCTION])),
        reflector=NeverCalled(),
    )
    result = graph.invoke({"task": "t"}, context=ReflexionContext(max_attempts=2))
    (lesson,) = result["reflections"]
    assert lesson["metadata"]["fallback_reason"] == "found" and result["stop_reason"] == "passed"
