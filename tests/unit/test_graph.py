import asyncio
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from reflexion_graph import (
    ConfigurationError,
    InvalidTaskError,
    LLMActor,
    LLMReflector,
    ReflexionContext,
    create_reflexion_agent,
    make_evaluation,
    make_lesson,
)
from reflexion_graph.reflectors._llm import rule_of
from tests.fakes import RecordingMemory, ScriptedChatModel

SNAPSHOT = Path(__file__).with_name("graph.mmd")


def agent(actor_replies, reflector_replies=(), evaluator=None, **kwargs):
    actor_model = ScriptedChatModel(replies=list(actor_replies))
    reflector_model = ScriptedChatModel(replies=list(reflector_replies))
    graph = create_reflexion_agent(
        evaluator=evaluator or (lambda task, answer: answer == "right"),
        actor=LLMActor(actor_model),
        reflector=LLMReflector(reflector_model),
        **kwargs,
    )
    return graph, actor_model, reflector_model


def test_passes_on_first_attempt_without_reflecting():
    graph, _, reflector = agent(["right"])
    result = graph.invoke({"task": "say right"})
    assert [a["number"] for a in result["attempts"]] == [1]
    assert result["stop_reason"] == "passed"
    assert result["best"]["answer"] == "right"
    assert result["reflections"] == []
    assert reflector.prompts == []
    assert result["messages"][-1].content == "right"


def test_fail_reflect_pass_and_the_lesson_reaches_the_actor():
    graph, actor, _ = agent(["wrong", "right"], ["Diagnosis: said wrong. Plan: say right."])
    result = graph.invoke({"task": "say right"})
    assert result["stop_reason"] == "passed"
    assert [a["evaluation"]["passed"] for a in result["attempts"]] == [False, True]
    [reflection] = result["reflections"]
    assert reflection["outcome"] == "passed"
    assert reflection["attempt"] == 1
    assert "wrong" in reflection["prompt"]
    assert "Plan: say right." not in actor.prompt_text(0)
    assert "Plan: say right." in actor.prompt_text(1)


def test_exhausted_attempts_return_the_best_not_the_last():
    scores = {"a": 0.2, "b": 0.7, "c": 0.5}
    graph, _, _ = agent(
        ["a", "b", "c"], ["l1", "l2"], evaluator=lambda task, answer: scores[answer]
    )
    result = graph.invoke({"task": "t"}, context=ReflexionContext(max_attempts=3))
    assert result["stop_reason"] == "max_attempts"
    assert len(result["attempts"]) == 3
    assert result["best"]["answer"] == "b"
    assert [r["outcome"] for r in result["reflections"]] == ["improved", "not_improved"]
    assert result["reflections"][1]["metadata"]["score_delta"] == pytest.approx(-0.2)


def test_reflection_window_limits_what_the_actor_sees():
    graph, actor, _ = agent(["w1", "w2", "w3"], ["lesson-one", "lesson-two"])
    graph.invoke({"task": "t"}, context=ReflexionContext(max_attempts=3, reflection_window=1))
    third_prompt = actor.prompt_text(2)
    assert "lesson-two" in third_prompt
    assert "lesson-one" not in third_prompt


def test_reflection_window_zero_hides_reflections():
    graph, actor, _ = agent(["w1", "w2"], ["lesson-one"])
    graph.invoke({"task": "t"}, context=ReflexionContext(max_attempts=2, reflection_window=0))
    assert "lesson-one" not in actor.prompt_text(1)


def test_token_usage_counts_every_model_call():
    graph, _, _ = agent(["wrong", "right"], ["lesson"])
    usage = graph.invoke({"task": "t"})["usage"]
    assert usage == {"input_tokens": 30, "output_tokens": 3, "total_tokens": 33, "model_calls": 3,
                     "input_token_details": {"cache_read": 0}}  # fmt: skip


def test_token_budget_stops_before_the_next_attempt():
    graph, _, _ = agent(["wrong", "wrong"], ["lesson"])
    result = graph.invoke(
        {"task": "t"}, context=ReflexionContext(max_attempts=5, max_total_tokens=5)
    )
    assert result["stop_reason"] == "token_budget"
    assert len(result["attempts"]) == 1


def test_recalled_lessons_reach_the_prompt_and_memory_is_updated():
    old = make_lesson("Always return, never print.", task="old task")
    memory = RecordingMemory([old])
    graph, actor, _ = agent(
        ["wrong", "right", "right"], ["new lesson", "When t, say right."], memory=memory
    )
    result = graph.invoke({"task": "t"}, context=ReflexionContext(memory_scope="global"))
    assert "Always return, never print." in actor.prompt_text(0)
    assert result["recalled"] == [old]
    assert memory.usage == [([old["id"]], False, "global")]  # the first attempt failed
    saved = memory.stored["global"][-1]
    assert saved["text"] == "When t, say right." and saved["replay"] == "passed"
    assert (saved["recalls"], saved["helped"]) == (1, 1)  # its replay, which passed


def test_the_earlier_name_save_reflections_still_works_with_a_warning():
    with pytest.warns(DeprecationWarning, match="now save_lessons"):
        context = ReflexionContext(save_reflections=False)
    assert context.save_lessons is False and context.save_reflections is None
    assert ReflexionContext().save_lessons is True


def test_save_lessons_off_keeps_memory_unchanged():
    memory = RecordingMemory()
    graph, _, _ = agent(["wrong", "right"], ["lesson"], memory=memory)
    graph.invoke({"task": "t"}, context=ReflexionContext(save_lessons=False))
    assert memory.stored == {"global": []}


def test_task_can_come_from_a_chat_message():
    graph, actor, _ = agent(["right"])
    result = graph.invoke({"messages": [HumanMessage("say right")]})
    assert result["task"] == "say right"
    assert "say right" in actor.prompt_text(0)


def test_second_run_on_a_thread_starts_fresh():
    graph, _, _ = agent(["wrong", "right", "right"], ["lesson"], checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t1"}}
    graph.invoke({"task": "first"}, config)
    second = graph.invoke({"task": "second"}, config)
    assert [a["number"] for a in second["attempts"]] == [1]
    assert second["reflections"] == [] and second["usage"]["model_calls"] == 1


@pytest.mark.parametrize("task", ["", "   ", None])
def test_empty_task_is_rejected(task):
    graph, _, _ = agent(["x"])
    with pytest.raises(InvalidTaskError, match="non-empty 'task'"):
        graph.invoke({"task": task} if task is not None else {})


def test_unknown_evaluator_is_rejected():
    with pytest.raises(ConfigurationError, match="evaluator must be a BaseEvaluator"):
        create_reflexion_agent(
            evaluator="tests",
            actor=LLMActor(ScriptedChatModel(replies=[])),
            reflector=LLMReflector(ScriptedChatModel(replies=[])),
        )


def test_evaluator_returning_garbage_is_named():
    def shouty(task, answer):
        return "yes"

    graph, _, _ = agent(["x"], evaluator=shouty)
    with pytest.raises(ConfigurationError, match="evaluator 'shouty' returned str"):
        graph.invoke({"task": "t"})


@pytest.mark.parametrize(
    "field,value", [("max_attempts", 0), ("recall_k", -1), ("reflection_window", "2")]
)
def test_bad_context_is_rejected(field, value):
    with pytest.raises(ConfigurationError, match=field):
        ReflexionContext(**{field: value})


def test_empty_reflection_falls_back_to_the_feedback():
    evaluator = lambda task, answer: make_evaluation(answer == "right", feedback="expected right")  # noqa: E731
    graph, _, _ = agent(["wrong", "right"], [""], evaluator=evaluator)
    [reflection] = graph.invoke({"task": "t"})["reflections"]
    assert reflection["text"] == "The previous attempt failed: expected right"
    assert reflection["metadata"]["fallback"] is True


async def test_async_twin_matches_sync():
    graph, actor, _ = agent(["wrong", "right"], ["lesson"])
    result = await graph.ainvoke({"task": "t"})
    assert result["stop_reason"] == "passed"
    assert "lesson" in actor.prompt_text(1)
    graph, _, _ = agent(["wrong", "right"], ["lesson"])
    nodes = [
        node
        async for chunk in graph.astream({"task": "t"}, stream_mode="updates")
        for node in chunk
    ]
    assert nodes == [
        "recall",
        "actor",
        "evaluate",
        "reflect",
        "actor",
        "evaluate",
        "finalize",
        "hindsight",
        "remember",
    ]


def test_sync_stream_shows_every_node_step():
    graph, _, _ = agent(["right"])
    nodes = [node for chunk in graph.stream({"task": "t"}, stream_mode="updates") for node in chunk]
    assert nodes == ["recall", "actor", "evaluate", "finalize", "hindsight", "remember"]


def test_concurrent_runs_do_not_share_state():
    async def run(answer):
        graph, _, _ = agent([answer, "right"], ["lesson"])
        return await graph.ainvoke({"task": answer})

    first, second = asyncio.run(_gather(run("right"), run("wrong")))
    assert len(first["attempts"]) == 1 and len(second["attempts"]) == 2


async def _gather(*coroutines):
    return await asyncio.gather(*coroutines)


def test_graph_topology_matches_snapshot():
    graph, _, _ = agent([])
    mermaid = graph.get_graph().draw_mermaid()
    assert mermaid == SNAPSHOT.read_text()


@pytest.mark.parametrize(
    "decision,stored",
    [(True, ["lesson"]), (False, []), ([], []), ("ids", ["lesson"]), ("edit", ["edited lesson"])],
)
def test_human_approval_before_lessons_enter_memory(decision, stored):
    memory = RecordingMemory()
    graph, _, _ = agent(["wrong", "right"], ["lesson"], memory=memory, checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "approval"}}
    context = ReflexionContext(approve_lessons=True, remember="every_failure")
    paused = graph.invoke({"task": "t"}, config, context=context)
    [request] = paused["__interrupt__"]
    [lesson] = request.value["lessons"]
    assert memory.stored == {"global": []}
    if decision == "ids":
        decision = [lesson["id"]]
    elif decision == "edit":
        decision = [{"id": lesson["id"], "text": "edited lesson"}]
    result = graph.invoke(Command(resume=decision), config, context=context)
    assert result["stop_reason"] == "passed"
    assert [saved["text"] for saved in memory.stored["global"]] == stored


def test_approval_naming_an_unknown_lesson_is_rejected():
    graph, _, _ = agent(
        ["wrong", "right"], ["lesson"], memory=RecordingMemory(), checkpointer=InMemorySaver()
    )
    config = {"configurable": {"thread_id": "bad-approval"}}
    context = ReflexionContext(approve_lessons=True, remember="every_failure")
    graph.invoke({"task": "t"}, config, context=context)
    with pytest.raises(ConfigurationError, match="unknown lesson 'nope'"):
        graph.invoke(Command(resume=["nope"]), config, context=context)


def feedback_evaluator(task, answer):
    return make_evaluation(answer == "right", feedback=f"f({answer}) returned 1, expected 2")


@pytest.mark.parametrize(
    "retry_context,shows_answer,shows_lesson,reflector_calls",
    [
        ("reflections", False, True, 1),
        ("last_attempt", True, False, 0),
        ("last_attempt_and_reflection", True, True, 1),
        ("none", False, False, 0),
    ],
)
def test_each_retry_context_shows_what_it_names(
    retry_context, shows_answer, shows_lesson, reflector_calls
):
    graph, actor, reflector = agent(
        ["first-try", "right"], ["Mistake: x. Fix: y."], evaluator=feedback_evaluator
    )
    result = graph.invoke({"task": "t"}, context=ReflexionContext(retry_context=retry_context))
    assert result["stop_reason"] == "passed"
    retry = actor.prompts[1]
    retry_text = actor.prompt_text(1)
    assert ("first-try" in retry_text) is shows_answer
    assert ("f(first-try) returned 1, expected 2" in retry_text) is shows_answer
    assert ("Mistake: x. Fix: y." in retry_text) is shows_lesson
    assert len(reflector.prompts) == reflector_calls
    assert len(result["reflections"]) == reflector_calls
    if retry_context == "none":  # resampling: the retry's prompt is the first one
        assert retry_text == actor.prompt_text(0)
    if shows_answer:  # a conversation: the task, the failed answer, then the feedback
        assert [type(m).__name__ for m in retry][1:] == [
            "HumanMessage",
            "AIMessage",
            "HumanMessage",
        ]
        assert retry[2].content == "first-try"


def test_the_reflector_sees_its_earlier_lessons_of_the_run():
    graph, _, reflector = agent(
        ["w1", "w2", "right"], ["lesson-one", "lesson-two"], evaluator=feedback_evaluator
    )
    graph.invoke({"task": "t"}, context=ReflexionContext(max_attempts=3))
    assert "lesson-one" not in reflector.prompt_text(0)
    assert "lesson-one" in reflector.prompt_text(1) and "did not fix it" in reflector.prompt_text(1)


def test_an_unknown_retry_context_is_named():
    with pytest.raises(ConfigurationError, match="'retry_context' must be one of"):
        ReflexionContext(retry_context="everything")


def test_lessons_keep_the_rule_and_drop_the_code():
    lesson = "Mistake: f([]) raised.\nFix: return 0.0 for empty input:\n```python\nreturn 0\n```"
    graph, _, _ = agent(["w", "right"], [lesson], evaluator=feedback_evaluator)
    [reflection] = graph.invoke({"task": "t"})["reflections"]
    assert reflection["text"] == "Mistake: f([]) raised. Fix: return 0.0 for empty input:"


def test_memory_keeps_the_rule_and_the_run_keeps_the_whole_lesson():
    lesson = "Mistake: gave 1, expected 2.\nRule: **Money is in integer cents.**\nFix: x100."
    memory = RecordingMemory()
    graph, _, _ = agent(["wrong", "right"], [lesson], memory=memory, evaluator=feedback_evaluator)
    every_failure = ReflexionContext(remember="every_failure")
    [reflection] = graph.invoke({"task": "t"}, context=every_failure)["reflections"]
    assert reflection["text"] == " ".join(lesson.split())  # what the retry saw
    assert reflection["rule"] == "Money is in integer cents."
    [saved] = memory.stored["global"]
    assert (saved["text"], saved["rule"]) == ("Money is in integer cents.",) * 2
    assert saved["metadata"]["lesson"] == reflection["text"]
    assert (saved["source"], saved["recalls"], saved["helped"]) == ("failure", 1, 1)


def test_without_a_rule_memory_keeps_the_lesson():
    memory = RecordingMemory()
    graph, _, _ = agent(["wrong", "right"], ["Mistake: a. Fix: b."], memory=memory)
    graph.invoke({"task": "t"}, context=ReflexionContext(remember="every_failure"))
    assert [saved["text"] for saved in memory.stored["global"]] == ["Mistake: a. Fix: b."]


@pytest.mark.parametrize(
    "lesson,rule",
    [
        ("Mistake: a. Rule: Dates are DD.MM.YYYY. Fix: b.", "Dates are DD.MM.YYYY."),
        ("rule: lower-case header names", "lower-case header names"),
        ("Mistake: a. Fix: b.", ""),
    ],
)
def test_the_rule_line_of_a_lesson(lesson, rule):
    assert rule_of(lesson) == rule


@pytest.mark.parametrize(
    "scores,patience,attempts,reason",
    [
        ([0.5, 0.5, 0.5, 0.9, 1.0], 2, 3, "plateau"),  # two attempts without a gain: stop
        ([0.2, 0.5, 0.4, 0.6, 0.7], 2, 5, "max_attempts"),  # a gain within every window
        ([0.5, 0.5, 0.5, 0.5, 0.5], None, 5, "max_attempts"),  # no patience: never a plateau
    ],
)
def test_a_plateau_stops_the_run_and_says_so(scores, patience, attempts, reason):
    answers = [f"answer {n}" for n in range(len(scores))]
    by_answer = dict(zip(answers, scores, strict=True))
    graph, _, _ = agent(
        answers,
        [f"lesson {n}" for n in range(len(scores))],
        evaluator=lambda task, answer: by_answer[answer],
    )
    context = ReflexionContext(max_attempts=5, plateau_patience=patience)
    result = graph.invoke({"task": "t"}, context=context)
    assert (len(result["attempts"]), result["stop_reason"]) == (attempts, reason)


def test_the_graphs_name_signs_its_reply_and_a_failing_judge_call_is_retried():
    calls = []

    def flaky_judge(task, answer):
        calls.append(answer)
        if len(calls) == 1:
            raise ConnectionError("the judge's endpoint dropped the connection")
        return answer == "right"

    graph, _, _ = agent(["right"], evaluator=flaky_judge, name="coder")
    result = graph.invoke({"task": "say right"})
    assert result["messages"][-1].name == "coder"
    assert result["stop_reason"] == "passed" and calls == ["right", "right"]


def test_none_turns_a_limit_off_and_zero_still_does_with_a_warning():
    assert ReflexionContext().max_total_tokens is None
    with pytest.warns(DeprecationWarning, match="None turns the limit off"):
        old = ReflexionContext(max_total_tokens=0, plateau_patience=0)
    assert (old.max_total_tokens, old.plateau_patience) == (None, None)
    with pytest.raises(ConfigurationError, match="plateau_patience"):
        ReflexionContext(plateau_patience=-2)


@pytest.mark.parametrize("source,trusted", [("tests", True), ("self-tests", False)])
def test_auto_resamples_only_under_the_models_own_tests(source, trusted):
    def judged(task, answer):
        passed = answer == "right"
        return make_evaluation(passed, feedback="" if passed else "f() returned 1", source=source)

    graph, actor, reflector = agent(["first-try", "right"], ["Mistake: x."], evaluator=judged)
    result = graph.invoke({"task": "t"}, context=ReflexionContext(retry_context="auto"))
    assert result["stop_reason"] == "passed"
    retry_text = actor.prompt_text(1)
    assert ("first-try" in retry_text) is trusted  # the failed answer, with its verdict
    assert ("Mistake: x." in retry_text) is trusted  # the lesson
    assert len(reflector.prompts) == int(trusted)  # under self-tests: no reflector call
    assert (retry_text == actor.prompt_text(0)) is not trusted  # a fresh sample
