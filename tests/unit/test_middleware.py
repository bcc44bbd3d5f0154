"""ReflexionMiddleware inside ``create_agent``, on scripted models."""

import asyncio

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import ModelCallLimitMiddleware
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command, interrupt

from reflexion_graph import ReflexionMiddleware, make_check, make_evaluation, make_lesson
from reflexion_graph.loop._evidence import evidence_lesson
from tests.fakes import RecordingMemory, ScriptedChatModel

RULE = "When a total is asked for, return it in integer cents."
IN_RUN_LESSON = f"Mistake: returned dollars.\nRule: {RULE}\nFix: multiply by 100."


def cents(task, answer):
    return answer.startswith("150")


def agent(answers, lessons=(), memory=None, **options):
    model = ScriptedChatModel(replies=list(answers))
    helper = ScriptedChatModel(replies=list(lessons))
    middleware = ReflexionMiddleware(
        evaluator=cents, model=helper, memory=memory or RecordingMemory(), **options
    )
    built = create_agent(model, system_prompt="You are terse.", middleware=[middleware])
    return built, model, helper


def ask(built, text="total of [1.5] in cents?", **config):
    return built.invoke({"messages": [HumanMessage(text)]}, **config)


def test_a_failed_answer_gets_a_critique_and_a_retry_that_passes():
    memory = RecordingMemory()
    built, model, helper = agent(["1.5", "150"], [IN_RUN_LESSON, "150"], memory)
    result = ask(built)

    assert result["reflexion"]["passed"] and result["reflexion"]["attempts"] == 2
    assert result["reflexion"]["stop_reason"] == "passed"
    retry_prompt = model.prompt_text(1)
    assert "That answer failed" in retry_prompt and RULE in retry_prompt
    assert len(model.prompts) == 2  # no node looped on itself
    [stored] = memory.stored["global"]  # the retry's rule, replayed (helper's 2nd reply)
    assert stored["text"] == RULE and stored["replay"] == "passed"
    assert result["reflexion"]["lessons_saved"] == 1
    replay = helper.prompt_text(1)  # the agent's system prompt, the task and the rule alone
    assert "You are terse." in replay and RULE in replay and "1.5\n" not in replay


def test_the_run_stops_at_max_attempts_and_stores_nothing_it_did_not_verify():
    memory = RecordingMemory()
    built, model, _ = agent(["1", "2", "3"], ["lesson one", "lesson two"], memory, max_attempts=3)
    result = ask(built)
    usage = result["reflexion"].pop("usage")
    assert usage["model_calls"] == 5  # the agent's three answers and two lessons, metered
    assert result["reflexion"] == {
        "passed": False,
        "attempts": 3,
        "stop_reason": "max_attempts",
        "score": 0.0,
        "lessons_saved": 0,
        "feedback": "",
        "recalled": [],
        "first_attempt_passed": False,
    }
    assert len(model.prompts) == 3 and memory.stored["global"] == []


def test_with_replay_unsolved_an_unsolved_run_keeps_the_rule_its_replay_passed():
    memory = RecordingMemory()
    built, _, helper = agent(
        ["1", "2"], [IN_RUN_LESSON, "150"], memory, max_attempts=2, replay_unsolved=True
    )
    result = ask(built)
    assert not result["reflexion"]["passed"] and result["reflexion"]["lessons_saved"] == 1
    [stored] = memory.stored["global"]
    assert (stored["text"], stored["source"], stored["replay"]) == (RULE, "failure", "passed")
    assert RULE in helper.prompt_text(1)  # the replay: the task and the rule alone


def test_a_call_limit_ends_the_run_as_a_stop_not_an_answer():
    model = ScriptedChatModel(replies=["1.5", "150"])
    middleware = ReflexionMiddleware(
        evaluator=cents, model=ScriptedChatModel(replies=["lesson"]), memory=RecordingMemory()
    )
    limit = ModelCallLimitMiddleware(run_limit=1, exit_behavior="end")
    built = create_agent(model, middleware=[middleware, limit])
    result = ask(built)
    assert result["reflexion"]["stop_reason"] == "call_limit"
    assert result["reflexion"]["attempts"] == 1 and len(model.prompts) == 1


def test_recalled_lessons_are_in_the_system_prompt_and_credited():
    old = {**make_lesson(RULE, task="t"), "id": "old", "recalls": 1, "helped": 1}
    memory = RecordingMemory([old])
    built, model, _ = agent(["150"], [], memory)
    result = ask(built)
    system = model.prompts[0][0].content
    assert system.startswith("You are terse.") and RULE in system
    assert result["reflexion"]["attempts"] == 1
    assert memory.usage == [(["old"], True, "global")]


def test_the_async_path_retries_and_stops_the_same_way():
    built, model, _ = agent(["1.5", "150"], [IN_RUN_LESSON, "150"])
    result = asyncio.run(built.ainvoke({"messages": [HumanMessage("total?")]}))
    assert result["reflexion"]["passed"] and result["reflexion"]["attempts"] == 2
    assert len(model.prompts) == 2


def test_a_resumed_run_keeps_its_attempt_count():
    def human(task, answer):
        return bool(interrupt({"judge": answer}))

    model = ScriptedChatModel(replies=["first", "second"])
    middleware = ReflexionMiddleware(
        evaluator=human,
        model=ScriptedChatModel(replies=["lesson"]),  # no memory: nothing to replay
    )
    built = create_agent(model, middleware=[middleware], checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t1"}}
    first = ask(built, config=config)
    assert first["__interrupt__"][0].value == {"judge": "first"}
    built.invoke(Command(resume=False), config=config)
    done = built.invoke(Command(resume=True), config=config)
    assert done["reflexion"]["attempts"] == 2 and done["reflexion"]["passed"]


def test_pruning_keeps_the_task_and_the_passing_answer():
    built, _, _ = agent(["1.5", "150"], [IN_RUN_LESSON, "150"], prune_failed_attempts=True)
    result = ask(built)
    assert [m.content for m in result["messages"]] == ["total of [1.5] in cents?", "150"]


def test_two_instances_need_distinct_names_and_bad_settings_are_named():
    first = ReflexionMiddleware(evaluator=cents, name="judge-a")
    second = ReflexionMiddleware(evaluator=cents, name="judge-b")
    assert {first.name, second.name} == {"judge-a", "judge-b"}
    with pytest.raises(ValueError, match="max_attempts"):
        ReflexionMiddleware(evaluator=cents, max_attempts=0)


def test_a_retry_runs_the_agents_tools_again():
    from langchain_core.messages import AIMessage
    from langchain_core.tools import tool

    looked_up = []

    @tool
    def price(item: str) -> str:
        """The price of an item, in dollars."""
        looked_up.append(item)
        return "1.5"

    def call(n):
        return AIMessage("", tool_calls=[{"name": "price", "args": {"item": "tea"}, "id": f"c{n}"}])

    model = ScriptedChatModel(replies=[call(1), "1.5", call(2), "150"])
    reflector = ScriptedChatModel(replies=[IN_RUN_LESSON])
    middleware = ReflexionMiddleware(evaluator=cents, model=reflector, memory=None)
    built = create_agent(model, tools=[price], middleware=[middleware])
    result = ask(built)
    assert result["reflexion"]["passed"] and result["reflexion"]["attempts"] == 2
    assert looked_up == ["tea", "tea"]  # side effects repeat with the retry
    assert "The attempt called the tools price." in reflector.prompt_text(0)  # its steps


def test_each_run_streams_what_it_recalled_judged_learnt_and_how_it_ended():
    built, _, _ = agent(["1.5", "150"], [IN_RUN_LESSON, "150"])
    stream = built.stream({"messages": [HumanMessage("total?")]}, stream_mode="custom")
    events = [event["reflexion"] for event in stream]
    assert [event["type"] for event in events] == ["recalled", "verdict", "lesson", "summary"]
    assert events[-1]["passed"] and events[-1]["lessons_saved"] == 1


def test_retry_context_none_asks_again_without_a_lesson_or_the_verdict():
    built, model, helper = agent(["1.5", "150"], retry_context="none", save_lessons=False)
    result = ask(built)
    assert result["reflexion"]["passed"] and result["reflexion"]["attempts"] == 2
    critique = model.prompts[1][-1].content
    assert critique == "That answer failed.\nAnswer the task again."
    assert helper.prompts == []  # no reflector call


def test_an_agent_recalls_evidence_as_examples_and_says_whether_the_answer_that_saw_it_passed():
    failed = make_evaluation(
        False, checks=[make_check("value", "fee([2.5])", expected="250", actual="2.5")]
    )
    earlier = evidence_lesson(
        "fee of [2.5]", [{"number": 1, "answer": "2.5", "evaluation": failed}]
    )
    memory = RecordingMemory([earlier])
    built, model, _ = agent(["150"], [], memory, remember="evidence")
    result = ask(built)
    assert "`fee([2.5])` had to return `250`, not `2.5`" in model.prompt_text(0)
    assert result["reflexion"]["recalled"] == [earlier["text"]]
    assert result["reflexion"]["first_attempt_passed"]
    assert memory.usage == [([earlier["id"]], True, "global")]


def test_one_instance_shared_by_two_agents_at_once_replays_each_with_its_own_prompt():
    middleware = ReflexionMiddleware(evaluator=cents, memory=RecordingMemory())  # no model=
    models = {
        name: ScriptedChatModel(replies=["1.5", IN_RUN_LESSON, "150", "150"])
        for name in ("You are A.", "You are B.")
    }
    agents = [
        create_agent(model, system_prompt=prompt, middleware=[middleware])
        for prompt, model in models.items()
    ]

    async def both():
        asks = [built.ainvoke({"messages": [HumanMessage("total?")]}) for built in agents]
        return await asyncio.gather(*asks)

    results = asyncio.run(both())
    assert all(result["reflexion"]["passed"] for result in results)
    for prompt, model in models.items():
        replay = model.prompt_text(3)  # each agent's own model replays its rule
        other = next(p for p in models if p != prompt)
        assert prompt in replay and other not in replay and RULE in replay
    assert middleware.model is None and middleware.reflector is None


def test_an_agent_recalls_the_rules_blamed_on_its_tools_first():
    from langchain_core.tools import tool

    @tool
    def price(item: str) -> str:
        """The price of an item, in dollars."""
        return "1.5"

    unrelated = {**make_lesson("Greet politely.", task="greet"), "id": "plain"}
    blamed = {**make_lesson(RULE, task="an unlike task", step="price"), "id": "price-rule"}
    memory = RecordingMemory([unrelated, blamed])
    model = ScriptedChatModel(replies=["150"])
    middleware = ReflexionMiddleware(evaluator=cents, memory=memory, recall_k=1)
    result = create_agent(model, tools=[price], middleware=[middleware]).invoke(
        {"messages": [HumanMessage("total?")]}
    )
    assert result["reflexion"]["recalled"] == [RULE]
    assert RULE in model.prompt_text(0)


def test_lessons_saved_counts_what_the_memory_added_not_what_was_offered():
    class AlreadyStored(RecordingMemory):
        def save(self, lessons, *, scope):
            super().save(lessons, scope=scope)
            return 0

    memory = AlreadyStored()
    built, _, _ = agent(["1.5", "150"], [IN_RUN_LESSON, "150"], memory)
    result = ask(built)
    assert len(memory.stored["global"]) == 1 and result["reflexion"]["lessons_saved"] == 0


def test_each_part_works_alone():
    from reflexion_graph.middleware import JudgeAndRetryMiddleware, RecallLessonsMiddleware

    memory = RecordingMemory([make_lesson(RULE, task="total of the prices", rule=RULE)])
    model = ScriptedChatModel(replies=["150"])
    recall_only = create_agent(model, middleware=[RecallLessonsMiddleware(memory=memory)])
    result = ask(recall_only)
    assert RULE in model.prompt_text(0) and "reflexion" not in result and not memory.usage

    model = ScriptedChatModel(replies=["1.5", "150"])
    judge = JudgeAndRetryMiddleware(evaluator=cents, retry_context="last_attempt")
    result = ask(create_agent(model, middleware=[judge]))
    assert result["reflexion"]["passed"] and result["reflexion"]["attempts"] == 2
    assert result["reflexion"]["lessons_saved"] == 0 and "That answer failed" in model.prompt_text(
        1
    )
