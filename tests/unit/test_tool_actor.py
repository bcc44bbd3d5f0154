import time

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.graph import START, StateGraph
from langgraph.prebuilt import ToolNode
from typing_extensions import TypedDict

from reflexion_graph import (
    ConfigurationError,
    LLMReflector,
    ReflexionContext,
    create_reflexion_agent,
)
from tests.fakes import ScriptedChatModel
from tests.tools import call

POPULATION = {"Paris": 2, "Lyon": 1}


def lookup_population(city: str) -> str:
    """Population of a city, in millions (city names are capitalised)."""
    if city not in POPULATION:
        raise ValueError(f"unknown city {city!r}; names are capitalised, like 'Paris'")
    return str(POPULATION[city])


def passes(task, answer):
    return answer.strip().endswith("Answer: 2")


def test_a_tool_that_fails_once_reaches_the_reflector_and_the_next_attempt_fixes_the_call():
    def handle(error: Exception) -> str:  # the user's own error handling
        return f"lookup failed: {error}"

    tool_node = ToolNode([lookup_population], handle_tool_errors=handle)
    actor_model = ScriptedChatModel(
        replies=[
            call("lookup_population", city="paris"),
            "I could not find it.",
            call("lookup_population", city="Paris"),
            "Paris has 2 million people.\nAnswer: 2",
        ]
    )
    reflector_model = ScriptedChatModel(
        replies=["Diagnosis: the tool wants capitalised names. Plan: call it with 'Paris'."]
    )
    graph = create_reflexion_agent(
        actor_model, tools=tool_node, evaluator=passes, reflector=LLMReflector(reflector_model)
    )
    result = graph.invoke({"task": "How many million people live in paris?"})

    first, second = result["attempts"]
    assert "[tool call] lookup_population" in first["answer"]
    assert "lookup failed: unknown city 'paris'" in first["answer"]
    assert "lookup failed: unknown city 'paris'" in reflector_model.prompt_text(0)
    assert "call it with 'Paris'" in actor_model.prompt_text(2)
    assert "[tool result] lookup_population: 2" in second["answer"]
    assert result["stop_reason"] == "passed" and result["best"]["number"] == 2


def test_a_raising_tool_given_as_a_function_becomes_an_error_message():
    actor_model = ScriptedChatModel(
        replies=[call("lookup_population", city="Rome"), "No idea.\nAnswer: 0"]
    )
    graph = create_reflexion_agent(
        actor_model,
        tools=[lookup_population],
        evaluator=passes,
        reflector=LLMReflector(ScriptedChatModel(replies=[])),
    )
    result = graph.invoke({"task": "Rome?"}, context=ReflexionContext(max_attempts=1))
    answer = result["attempts"][0]["answer"]
    assert "[tool error] lookup_population" in answer and "unknown city 'Rome'" in answer
    assert result["stop_reason"] == "max_attempts"


def test_a_hanging_tool_times_out_and_the_run_ends_with_a_stop_reason():
    def slow_lookup(city: str) -> str:
        """Never answers in time."""
        time.sleep(30)
        return "2"

    from reflexion_graph import create_tool_actor

    actor_model = ScriptedChatModel(replies=[call("slow_lookup", city="Paris"), "Answer: ?"])
    actor = create_tool_actor(actor_model, [slow_lookup], tool_timeout_s=0.5)
    graph = create_reflexion_agent(
        evaluator=passes, actor=actor, reflector=LLMReflector(ScriptedChatModel(replies=[]))
    )
    started = time.monotonic()
    result = graph.invoke({"task": "t"}, context=ReflexionContext(max_attempts=1))
    assert time.monotonic() - started < 5
    assert "timed out after 0.5 s" in result["attempts"][0]["answer"]
    assert result["stop_reason"] == "max_attempts"


def test_a_model_that_never_stops_calling_tools_is_bounded():
    from reflexion_graph import create_tool_actor

    actor_model = ScriptedChatModel(replies=[call("lookup_population", city="Lyon")] * 10)
    actor = create_tool_actor(actor_model, [lookup_population], max_tool_steps=2)
    graph = create_reflexion_agent(
        evaluator=passes, actor=actor, reflector=LLMReflector(ScriptedChatModel(replies=[]))
    )
    result = graph.invoke({"task": "t"}, context=ReflexionContext(max_attempts=1))
    assert result["attempts"][0]["answer"].startswith("[stopped]")
    assert result["stop_reason"] == "max_attempts"


def test_a_compiled_graph_as_actor():
    class State(TypedDict):
        messages: list

    def respond(state):
        return {"messages": [*state["messages"], AIMessage("Answer: 2")]}

    builder = StateGraph(State)
    builder.add_node("respond", respond)
    builder.add_edge(START, "respond")
    graph = create_reflexion_agent(
        evaluator=passes,
        actor=builder.compile(),
        reflector=LLMReflector(ScriptedChatModel(replies=[])),
    )
    assert graph.invoke({"task": "t"})["stop_reason"] == "passed"


def test_a_graph_actor_without_messages_is_rejected():
    class Other(TypedDict):
        question: str

    builder = StateGraph(Other)
    builder.add_node("noop", lambda state: state)
    builder.add_edge(START, "noop")
    with pytest.raises(ConfigurationError, match="needs a 'messages' channel"):
        create_reflexion_agent(
            evaluator=passes,
            actor=builder.compile(),
            reflector=LLMReflector(ScriptedChatModel(replies=[])),
        )


def test_actor_and_tools_together_are_rejected():
    with pytest.raises(ConfigurationError, match="either an actor or tools"):
        create_reflexion_agent(
            ScriptedChatModel(replies=[]),
            evaluator=passes,
            actor=object(),
            tools=[lookup_population],
        )


def test_transcript_renders_calls_results_and_the_reply():
    from reflexion_graph.actors._tools import transcript

    text = transcript(
        [call("f", x=1), ToolMessage("3", name="f", tool_call_id="c"), AIMessage("Answer: 3")]
    )
    assert text == '[tool call] f({"x": 1})\n[tool result] f: 3\nAnswer: 3'


async def async_lookup(city: str) -> str:
    """Population of a city, in millions (an async-only tool, as MCP adapters make)."""
    return str(POPULATION[city])


def tool_graph(tools, replies, **options):
    from reflexion_graph import create_tool_actor

    actor = create_tool_actor(ScriptedChatModel(replies=replies), tools, **options)
    return create_reflexion_agent(
        evaluator=passes, actor=actor, reflector=LLMReflector(ScriptedChatModel(replies=[]))
    )


@pytest.mark.parametrize("tool", [async_lookup, lookup_population])
async def test_async_and_sync_tools_answer_under_ainvoke(tool):
    graph = tool_graph([tool], [call(tool.__name__, city="Paris"), "Answer: 2"])
    result = await graph.ainvoke({"task": "Paris?"}, context=ReflexionContext(max_attempts=1))
    assert f"[tool result] {tool.__name__}: 2" in result["attempts"][0]["answer"]
    assert result["stop_reason"] == "passed"


def test_an_async_only_tool_answers_under_sync_invoke_too():
    graph = tool_graph([async_lookup], [call("async_lookup", city="Lyon"), "Answer: 2"])
    result = graph.invoke({"task": "Lyon?"}, context=ReflexionContext(max_attempts=1))
    assert "[tool result] async_lookup: 1" in result["attempts"][0]["answer"]


async def test_a_hanging_async_tool_times_out_with_a_clear_tool_error():
    import asyncio

    async def stuck_lookup(city: str) -> str:
        """Never answers in time."""
        await asyncio.sleep(30)
        return "2"

    graph = tool_graph(
        [stuck_lookup], [call("stuck_lookup", city="Paris"), "Answer: ?"], tool_timeout_s=0.5
    )
    started = time.monotonic()
    result = await graph.ainvoke({"task": "t"}, context=ReflexionContext(max_attempts=1))
    assert time.monotonic() - started < 5
    answer = result["attempts"][0]["answer"]
    assert "[tool error] stuck_lookup" in answer and "timed out after 0.5 s" in answer


async def test_the_users_own_tool_node_with_async_tools():
    graph = tool_graph(
        ToolNode([async_lookup], handle_tool_errors=True),
        [call("async_lookup", city="Paris"), "Answer: 2"],
    )
    result = await graph.ainvoke({"task": "Paris?"}, context=ReflexionContext(max_attempts=1))
    assert "[tool result] async_lookup: 2" in result["attempts"][0]["answer"]


def test_a_tool_call_written_as_json_text_is_recovered_for_bound_tools_only():
    from reflexion_graph.actors._tools import recover_tool_call

    written = AIMessage(
        '```json\n{"name": "lookup_population", "arguments": {"city": "Paris"}}\n```'
    )
    [recovered] = recover_tool_call(written, {"lookup_population"}).tool_calls
    assert (recovered["name"], recovered["args"]) == ("lookup_population", {"city": "Paris"})
    unknown = AIMessage('{"name": "rm_rf", "arguments": {}}')
    assert recover_tool_call(unknown, {"lookup_population"}) is unknown
    prose = AIMessage("Paris has 2 million people.\nAnswer: 2")
    assert recover_tool_call(prose, {"lookup_population"}) is prose


def test_user_tools_are_bound_as_given_with_every_attribute():
    from langchain_core.tools import tool

    from reflexion_graph import create_tool_actor

    @tool(return_direct=True)
    def final_lookup(city: str) -> str:
        """Look a city up and end there."""
        return "2"

    final_lookup.metadata = {"team": "geo"}
    final_lookup.tags = ["geo"]
    actor = create_tool_actor(ScriptedChatModel(replies=[]), [final_lookup], tool_timeout_s=0.5)
    bound = actor.graph.get_graph().nodes["tools"].data.tools_by_name["final_lookup"]
    assert bound is final_lookup
    assert (bound.return_direct, bound.metadata, bound.tags) == (True, {"team": "geo"}, ["geo"])


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_users_own_tool_node_times_out_with_the_interceptor(mode):
    import asyncio

    from reflexion_graph.actors import ToolTimeout

    def slow_lookup(city: str) -> str:
        """Never answers in time."""
        time.sleep(30)
        return "2"

    async def stuck_lookup(city: str) -> str:
        """Never answers in time."""
        await asyncio.sleep(30)
        return "2"

    hanging = slow_lookup if mode == "sync" else stuck_lookup
    timeout = ToolTimeout(0.5)
    node = ToolNode(
        [hanging], handle_tool_errors=True, wrap_tool_call=timeout, awrap_tool_call=timeout.acall
    )
    graph = tool_graph(node, [call(hanging.__name__, city="Paris"), "Answer: ?"])
    started = time.monotonic()
    context = ReflexionContext(max_attempts=1)
    if mode == "sync":
        result = graph.invoke({"task": "t"}, context=context)
    else:
        result = await graph.ainvoke({"task": "t"}, context=context)
    assert time.monotonic() - started < 5
    assert "timed out after 0.5 s" in result["attempts"][0]["answer"]
