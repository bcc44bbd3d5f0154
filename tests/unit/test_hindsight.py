"""Hindsight lessons: written once a failed task passed, replayed before they are stored."""

import pytest

from reflexion_graph import (
    BaseReflector,
    ConfigurationError,
    LLMActor,
    LLMReflector,
    ReflexionContext,
    create_reflexion_agent,
    make_evaluation,
)
from reflexion_graph.memory._lessons import is_retired
from reflexion_graph.reflectors._hindsight import leaks_solution, rule_from_reply
from tests.fakes import RecordingMemory, ScriptedChatModel

RULE = "When a total is asked for, return it in integer cents."


def check(task, answer):
    return make_evaluation(
        answer.startswith("right"), feedback=f"total([1.5]) returned {answer!r}, expected 150"
    )


def agent(actor_replies, reflector_replies, memory=None, **kwargs):
    actor_model = ScriptedChatModel(replies=list(actor_replies))
    reflector_model = ScriptedChatModel(replies=list(reflector_replies))
    graph = create_reflexion_agent(
        evaluator=check,
        actor=LLMActor(actor_model),
        reflector=LLMReflector(reflector_model),
        memory=memory if memory is not None else RecordingMemory(),
        **kwargs,
    )
    return graph, actor_model, reflector_model


def test_a_run_that_failed_then_passed_stores_the_rule_its_replay_confirmed():
    memory = RecordingMemory()
    graph, actor, reflector = agent(
        ["wrong 1.5", "right 150", "right 150 again"], ["in-run lesson", f"Sure. {RULE}"], memory
    )
    result = graph.invoke({"task": "total of the prices"})

    hindsight_prompt = reflector.prompt_text(1)
    for shown in ("wrong 1.5", "right 150", "expected 150", "total of the prices"):
        assert shown in hindsight_prompt
    replay_prompt = actor.prompt_text(2)  # a fresh attempt: the task and the lesson only
    assert RULE in replay_prompt and "wrong 1.5" not in replay_prompt
    assert "in-run lesson" not in replay_prompt
    [stored] = memory.stored["global"]
    assert (stored["text"], stored["rule"], stored["source"]) == (RULE, RULE, "contrast")
    assert (stored["replay"], stored["recalls"], stored["helped"]) == ("passed", 1, 1)
    assert "expected 150" in stored["evidence"]
    assert result["learned"] == [stored]
    assert result["usage"]["model_calls"] == 5  # 2 attempts, 1 reflection, 1 rule, 1 replay


def test_a_rule_that_fails_its_replay_is_not_stored_and_the_next_candidate_is_tried():
    memory = RecordingMemory()
    graph, _, _ = agent(
        ["wrong", "right", "wrong again", "right"],
        ["lesson", "When asked, guess.", RULE],
        memory,
    )
    result = graph.invoke({"task": "t"}, context=ReflexionContext(lesson_candidates=2))
    assert [(r["text"], r["replay"]) for r in result["learned"]] == [
        ("When asked, guess.", "failed"),
        (RULE, "passed"),
    ]
    assert [r["text"] for r in memory.stored["global"]] == [RULE]


def test_a_candidate_that_repeats_a_replayed_rule_is_not_replayed_again_and_ends_the_search():
    memory = RecordingMemory()
    graph, actor, reflector = agent(
        ["wrong", "right", "wrong again", "right"], ["lesson", RULE, RULE, "When x, y."], memory
    )
    result = graph.invoke({"task": "t"}, context=ReflexionContext(lesson_candidates=3))
    assert [(r["text"], r["replay"]) for r in result["learned"]] == [(RULE, "failed")]
    assert len(actor.prompts) == 3 and len(reflector.prompts) == 3  # one replay; one repeat
    assert memory.stored["global"] == []


def test_nothing_is_stored_when_every_candidate_fails_its_replay():
    memory = RecordingMemory()
    graph, _, _ = agent(["wrong", "right", "wrong again"], ["lesson", RULE], memory)
    result = graph.invoke({"task": "t"}, context=ReflexionContext(lesson_candidates=1))
    assert [r["replay"] for r in result["learned"]] == ["failed"]
    assert memory.stored["global"] == []


def test_a_rule_that_gives_the_solution_away_is_refused_without_a_replay():
    memory = RecordingMemory()
    leaked = "When asked, write: right = compute_the_total_in_cents(prices)"
    graph, actor, _ = agent(
        ["wrong", "right = compute_the_total_in_cents(prices)"], ["lesson", leaked], memory
    )
    result = graph.invoke({"task": "t"}, context=ReflexionContext(lesson_candidates=1))
    assert [r["replay"] for r in result["learned"]] == ["refused"]
    assert len(actor.prompts) == 2  # no replay
    assert memory.stored["global"] == []


def test_with_the_gate_off_the_rule_is_stored_unreplayed():
    memory = RecordingMemory()
    graph, actor, _ = agent(["wrong", "right"], ["lesson", RULE], memory)
    graph.invoke({"task": "t"}, context=ReflexionContext(verify_by_replay=False))
    assert len(actor.prompts) == 2
    [stored] = memory.stored["global"]
    assert (stored["replay"], stored["recalls"], stored["helped"]) == ("off", 1, 0)


def test_a_run_that_never_passes_stores_nothing_unless_every_failure_is_kept():
    memory = RecordingMemory()
    graph, _, reflector = agent(["w1", "w2"], ["lesson one"], memory)
    result = graph.invoke({"task": "t"}, context=ReflexionContext(max_attempts=2))
    assert result["learned"] == [] and memory.stored["global"] == []
    assert len(reflector.prompts) == 1  # no hindsight call

    graph, _, _ = agent(["w1", "w2"], ["lesson one"], memory)
    graph.invoke({"task": "t"}, context=ReflexionContext(max_attempts=2, remember="every_failure"))
    assert [r["text"] for r in memory.stored["global"]] == ["lesson one"]


def in_run(rule, mistake="returned dollars"):
    return f"Mistake: {mistake}.\nRule: {rule}\nFix: multiply by 100."


def test_an_unsolved_run_stores_the_in_run_rule_its_replay_confirmed_when_asked():
    memory = RecordingMemory()
    graph, actor, reflector = agent(["wrong 1.5", "wrong 2", "right 150"], [in_run(RULE)], memory)
    result = graph.invoke(
        {"task": "total of the prices"},
        context=ReflexionContext(max_attempts=2, replay_unsolved=True),
    )
    assert not result["attempts"][-1]["evaluation"]["passed"]
    replay_prompt = actor.prompt_text(2)  # the task and the rule alone
    assert RULE in replay_prompt and "wrong" not in replay_prompt
    assert "expected 150" not in replay_prompt
    assert len(reflector.prompts) == 1  # no hindsight call: there is no passing attempt
    [stored] = memory.stored["global"]
    assert (stored["text"], stored["source"], stored["replay"]) == (RULE, "failure", "passed")
    assert "'wrong 1.5'" in stored["evidence"]  # the check the rule was written about
    assert result["usage"]["model_calls"] == 4  # 2 attempts, 1 reflection, 1 replay


def test_an_unsolved_run_replays_its_distinct_rules_latest_first_and_stores_none_that_fail():
    memory = RecordingMemory()
    other = "When a total is asked for, round it."
    graph, actor, _ = agent(
        ["w1", "w2", "w3", "w4", "w5", "w6"],
        [in_run(RULE), in_run(other, mistake="kept dollars"), in_run(other, mistake="rounded")],
        memory,
    )
    result = graph.invoke(
        {"task": "t"}, context=ReflexionContext(max_attempts=4, replay_unsolved=True)
    )
    assert [(r["text"], r["replay"]) for r in result["learned"]] == [
        (other, "failed"),
        (RULE, "failed"),
    ]
    assert memory.stored["global"] == []
    assert len(actor.prompts) == 6  # 4 attempts, 2 replays (one per distinct rule)


def test_an_unsolved_rule_that_gives_its_replay_answer_away_is_refused():
    memory = RecordingMemory()
    leaked = "When asked, write: right = compute_the_total_in_cents(prices)"
    graph, _, _ = agent(
        ["wrong", "wrong again", "right = compute_the_total_in_cents(prices)"],
        [in_run(leaked)],
        memory,
    )
    result = graph.invoke(
        {"task": "t"}, context=ReflexionContext(max_attempts=2, replay_unsolved=True)
    )
    assert [r["replay"] for r in result["learned"]] == ["refused"]
    assert memory.stored["global"] == []


def test_replaying_unsolved_runs_needs_the_replay_gate():
    with pytest.raises(ConfigurationError, match=r"replay_unsolved' needs verify_by_replay"):
        ReflexionContext(replay_unsolved=True, verify_by_replay=False)


def test_a_first_attempt_pass_writes_no_lesson_and_credits_the_recalled_ones():
    memory = RecordingMemory()
    graph, _, _ = agent(["right"], [RULE], memory)
    graph.invoke({"task": "t"})
    graph, _, reflector = agent(["right"], [], memory)
    result = graph.invoke({"task": "t"})
    assert reflector.prompts == [] and result["learned"] == []
    assert memory.usage == []  # nothing was recalled
    recalled = RecordingMemory([{**_stored_rule(), "id": "old"}])
    graph, _, _ = agent(["right"], [], recalled)
    graph.invoke({"task": "t"})
    assert recalled.usage == [(["old"], True, "global")]


def test_the_rule_of_the_lesson_that_led_to_the_pass_is_replayed_first_without_its_evidence():
    memory = RecordingMemory()
    in_run = f"Mistake: returned dollars.\nRule: {RULE}\nFix: multiply by 100."
    graph, actor, reflector = agent(["wrong 1.5", "right 150", "right again"], [in_run], memory)
    result = graph.invoke({"task": "total of the prices"})

    assert len(reflector.prompts) == 1  # the rule was reused: no hindsight call
    replay_prompt = actor.prompt_text(2)
    assert RULE in replay_prompt and "expected 150" not in replay_prompt
    [stored] = memory.stored["global"]
    assert stored["text"] == RULE and stored["source"] == "retry"
    assert "expected 150" in stored["evidence"]
    assert result["usage"]["model_calls"] == 4  # 2 attempts, 1 reflection, 1 replay


def test_a_recalled_lesson_is_shown_with_the_check_it_was_learnt_from():
    evidence = "total([1.5]) returned 1.5, expected 150"
    recalled = {**_stored_rule(), "evidence": evidence}
    graph, actor, _ = agent(["right"], [], RecordingMemory([recalled]))
    graph.invoke({"task": "t"})
    assert f"- {RULE} (seen on an earlier task: {evidence})" in actor.prompt_text(0)


def test_hindsight_without_a_model_to_write_with_is_named():
    class Fixed(BaseReflector):
        def reflect(self, task, attempt, *, earlier=()):
            from reflexion_graph import make_reflection

            return make_reflection("fixed", task=task, attempt=attempt["number"])

    graph = create_reflexion_agent(
        evaluator=check,
        actor=LLMActor(ScriptedChatModel(replies=["wrong", "right"])),
        reflector=Fixed(),
        memory=RecordingMemory(),
    )
    with pytest.raises(ConfigurationError, match="lesson writer"):
        graph.invoke({"task": "t"})


def test_a_hindsight_lesson_keeps_the_step_the_run_blamed():
    from reflexion_graph.loop._hindsight import judged_lesson
    from reflexion_graph.reflectors._hindsight import hindsight_lesson

    failed = {"number": 1, "answer": "a", "evaluation": check("t", "a")}
    passed = {"number": 2, "answer": "right", "evaluation": check("t", "right")}
    lesson = hindsight_lesson(RULE, task="t", failed=failed)
    blamed = {"reflections": [{"metadata": {"step": "current_weather"}}]}
    judged = judged_lesson(
        lesson, passed["answer"], check("t", "right"), ReflexionContext(), blamed
    )
    assert (judged["step"], judged["replay"]) == ("current_weather", "passed")


@pytest.mark.parametrize(
    "reply,rule",
    [
        (f"Sure! Here is the rule:\n{RULE}", RULE),
        ("```python\nx = 1\n```\nWhen dates are asked for, use DD.MM.YYYY.", None),
        ("Use cents.", "Use cents."),
    ],
)
def test_the_rule_is_the_when_sentence_of_the_reply(reply, rule):
    expected = rule or "When dates are asked for, use DD.MM.YYYY."
    assert rule_from_reply(reply) == expected


def test_a_rule_leaks_the_solution_when_it_holds_code_or_a_whole_line_of_the_answer():
    answer = "```python\ndef total(p):\n    return round(sum(p) * 100)\n```"
    assert leaks_solution("When totals: return round(sum(p) * 100)", answer)
    assert leaks_solution("Write def total(p): ...", answer)
    assert leaks_solution("```python\nx\n```", answer)
    assert not leaks_solution("When a total is asked for, multiply by 100 and round.", answer)


@pytest.mark.parametrize(
    "recalls,helped,retired",
    [(1, 0, False), (3, 0, False), (4, 0, True), (4, 1, False), (5, 1, True), (8, 3, False)],
)
def test_retirement_is_decided_by_the_counts_alone(recalls, helped, retired):
    assert is_retired(recalls, helped) is retired


def _stored_rule():
    from reflexion_graph import make_lesson

    return {**make_lesson(RULE, task="t", rule=RULE), "recalls": 1, "helped": 1}
