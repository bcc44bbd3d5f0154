"""Per-step blame in tool graphs: the lesson names the tool, memory recalls it by that tool."""

from langchain_core.messages import AIMessage
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode

from reflexion_graph import (
    LLMActor,
    LLMReflector,
    ReflexionContext,
    create_reflexion_agent,
    create_tool_actor,
    make_evaluation,
    make_lesson,
    make_reflection,
)
from reflexion_graph.actors._tools import (
    GraphActor,
    tool_steps,
    tools_called,
    tools_left_failing,
)
from reflexion_graph.loop._policy import first_unique, lesson_of_failure
from reflexion_graph.reflectors._blame import blamed_step
from tests.fakes import RecordingMemory, ScriptedChatModel
from tests.tools import answered, call, current_weather, geocode

PARIS = answered("geocode", "48.85,2.35", city="Paris")
FIXED = tool_steps(
    [
        *PARIS,
        *answered("current_weather", "units must be metric or standard", True, lat=48.85),
        *answered("current_weather", "294.15", lat=48.85, units="standard"),
        AIMessage("Answer: 294.15"),
    ]
)
LEFT_FAILING = tool_steps(
    [
        *PARIS,
        *answered("current_weather", "units must be 'standard' or 'metric'", True, units="c"),
        AIMessage("Answer: unknown"),
    ]
)


def test_tool_steps_pair_each_call_with_its_answer():
    assert FIXED[0] == {
        "tool": "geocode",
        "args": {"city": "Paris"},
        "result": "48.85,2.35",
        "error": False,
    }
    assert [(step["tool"], step["error"]) for step in FIXED] == [
        ("geocode", False),
        ("current_weather", True),
        ("current_weather", False),
    ]
    unanswered = tool_steps([call("geocode", city="Oslo")])
    assert unanswered == [
        {"tool": "geocode", "args": {"city": "Oslo"}, "result": "", "error": False}
    ]
    assert tool_steps([AIMessage("Answer: [tool call] geocode( in prose")]) == []


def test_the_steps_show_which_tools_were_called_and_which_were_left_failing():
    assert tools_called(FIXED) == ["geocode", "current_weather"]
    assert tools_left_failing(FIXED) == []  # the error was fixed by the next call
    assert tools_left_failing(LEFT_FAILING) == ["current_weather"]


def test_the_step_named_by_the_lesson_is_kept_when_the_attempt_called_it():
    assert blamed_step("Step: `current_weather`\nMistake: ...", FIXED) == "current_weather"
    assert blamed_step("**Step:** geocode\nRule: ...", FIXED) == "geocode"
    assert blamed_step("Step: get_forecast\nMistake: ...", FIXED) == ""  # never called
    assert blamed_step("Step: answer\nMistake: rounded", FIXED) == ""
    assert blamed_step("Mistake: wrong units", FIXED) == ""


def test_a_tool_left_failing_is_blamed_whatever_the_lesson_names():
    assert blamed_step("Step: geocode\nMistake: ...", LEFT_FAILING) == "current_weather"
    assert blamed_step("Mistake: wrong units", LEFT_FAILING) == "current_weather"


def test_a_tool_lesson_in_memory_says_which_tool_it_is_about():
    tool_lesson, plain = (
        lesson_of_failure(reflection)
        for reflection in [
            lesson("Step: current_weather Rule: pass units='metric'.", "current_weather"),
            lesson("Rule: answer in Celsius.", ""),
        ]
    )
    assert tool_lesson["text"] == "When calling current_weather: pass units='metric'."
    assert (tool_lesson["step"], tool_lesson["rule"]) == ("current_weather", "pass units='metric'.")
    assert tool_lesson["metadata"]["lesson"].startswith("Step: current_weather")
    assert (plain["text"], plain["step"], plain["source"]) == ("answer in Celsius.", "", "failure")


def test_recalled_lessons_come_once_each_and_at_most_k():
    a, b, c = (make_lesson(f"When {n}, do {n}.", task="t") for n in "abc")
    assert [r["id"] for r in first_unique([a, b, a, c], 2)] == [a["id"], b["id"]]


def test_tool_actors_name_their_tools_and_a_plain_actor_none():
    actor = create_tool_actor(ScriptedChatModel(replies=[]), [geocode, current_weather])
    assert actor.steps == ("geocode", "current_weather")
    assert LLMActor(ScriptedChatModel(replies=[])).steps == ()

    inner = StateGraph(MessagesState)
    inner.add_node("weather_tools", ToolNode([current_weather]))
    inner.add_edge(START, "weather_tools")
    outer = StateGraph(MessagesState)
    outer.add_node("weather", inner.compile())
    outer.add_edge(START, "weather")
    assert GraphActor(outer.compile()).steps == ("current_weather",)  # found in a subgraph


def test_a_failed_tool_run_stores_a_lesson_blamed_on_the_tool():
    memory = RecordingMemory()
    reflector_model = ScriptedChatModel(
        replies=[
            "Step: current_weather\nMistake: expected 21.0, got 294.15 (kelvin).\n"
            "Rule: pass units='metric' for Celsius.\nFix: call it with units='metric'."
        ]
    )
    actor_model = ScriptedChatModel(
        replies=[
            call("geocode", city="Paris"),
            call("current_weather", lat=48.85, lon=2.35),
            "Answer: 294.15",
            call("current_weather", lat=48.85, lon=2.35, units="metric"),
            "Answer: 21.0",
        ]
    )
    graph = create_reflexion_agent(
        actor=create_tool_actor(actor_model, [geocode, current_weather]),
        evaluator=lambda task, answer: answer.endswith("Answer: 21.0"),
        reflector=LLMReflector(reflector_model),
        memory=memory,
    )
    result = graph.invoke(
        {"task": "Temperature in Paris, in Celsius?"},
        context=ReflexionContext(remember="every_failure"),
    )

    assert result["stop_reason"] == "passed"
    first = result["attempts"][0]
    assert [(step["tool"], step["result"]) for step in first["steps"]] == [
        ("geocode", "48.85,2.35"),
        ("current_weather", "294.15"),
    ]
    assert "Step: <tool name>" in reflector_model.prompt_text(0)
    assert "geocode, current_weather" in reflector_model.prompt_text(0)
    [stored] = memory.stored["global"]
    assert stored["step"] == "current_weather"
    assert stored["text"] == "When calling current_weather: pass units='metric' for Celsius."


def test_a_lesson_on_a_plain_answer_asks_for_no_step():
    reflector_model = ScriptedChatModel(replies=["Mistake: x\nRule: y\nFix: z"])
    attempt = {"number": 1, "answer": "Answer: 1", "evaluation": make_evaluation(False)}
    lesson_ = LLMReflector(reflector_model).reflect("t", attempt)
    assert "Step:" not in reflector_model.prompt_text(0)
    assert lesson_["step"] == "" and "step" not in lesson_["metadata"]


def lesson(text, step):
    return make_reflection(text, task="t", attempt=1, rule=text.split("Rule: ")[1], step=step)
