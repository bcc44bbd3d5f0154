"""Lessons blamed on a tool are recalled whenever that tool is in play, on every memory backend.

Real Chroma (a folder), LangGraph's InMemoryStore and our ChromaStore, with the real offline
embeddings: a task unlike the lesson's does not recall it by similarity, but does by its tool.
"""

import chromadb
import pytest
from chromadb.config import Settings
from langgraph.store.memory import InMemoryStore

from reflexion_graph import (
    LLMActor,
    LLMReflector,
    ReflexionContext,
    create_reflexion_agent,
    create_tool_actor,
    make_lesson,
)
from reflexion_graph.memory import ChromaLessonMemory, StoreLessonMemory
from reflexion_graph.stores import ChromaStore
from tests.fakes import ScriptedChatModel
from tests.tools import call, current_weather, geocode

pytestmark = pytest.mark.integration

WEATHER = "What is the temperature in Paris right now, in degrees Celsius?"
UNLIKE = "Should I pack a coat for Oslo tomorrow morning?"
RULE = "When calling current_weather: pass units='metric'; the default is kelvin."


@pytest.fixture(params=["chroma", "in-memory-store", "chroma-store"])
def memory(request, tmp_path, embeddings):
    if request.param == "chroma":
        return ChromaLessonMemory(path=tmp_path / "memory", embeddings=embeddings)
    index = {"embed": embeddings, "dims": 384, "fields": ["task"]}
    if request.param == "in-memory-store":
        return StoreLessonMemory(InMemoryStore(index=index))
    client = chromadb.PersistentClient(
        path=str(tmp_path / "store"), settings=Settings(anonymized_telemetry=False)
    )
    return StoreLessonMemory(ChromaStore(client, index=index))


def lesson(text, step):
    return {**make_lesson(text, task=WEATHER, step=step), "recalls": 1, "helped": 1}


def test_a_tool_lesson_is_recalled_by_its_tool_on_an_unlike_task(memory):
    memory.save(
        [lesson(RULE, "current_weather"), lesson("Answer with the city name.", "")],
        scope="global",
    )
    assert memory.search(UNLIKE, k=3, scope="global") == []  # too unlike by similarity

    [recalled] = memory.search_by_step(UNLIKE, ["geocode", "current_weather"], k=3, scope="global")
    assert recalled["text"] == RULE
    assert recalled["step"] == "current_weather"
    assert memory.search_by_step(UNLIKE, ["geocode"], k=3, scope="global") == []
    assert memory.search_by_step(UNLIKE, ["current_weather"], k=3, scope="other") == []


def test_the_graph_recalls_a_tool_lesson_for_an_actor_that_has_the_tool(tmp_path, embeddings):
    memory = ChromaLessonMemory(path=tmp_path / "memory", embeddings=embeddings)
    reflector = ScriptedChatModel(
        replies=["Step: current_weather\nMistake: got kelvin.\nRule: pass units='metric'.\nFix: x"]
    )
    actor = ScriptedChatModel(
        replies=[
            call("geocode", city="Paris"),
            call("current_weather", lat=48.85, lon=2.35),
            "Answer: 294.15",
            "Answer: 21.0",
        ]
    )
    learning = create_reflexion_agent(
        actor=create_tool_actor(actor, [geocode, current_weather]),
        evaluator=lambda task, answer: answer.endswith("21.0"),
        reflector=LLMReflector(reflector),
        memory=memory,
    )
    every_failure = ReflexionContext(remember="every_failure")
    assert learning.invoke({"task": WEATHER}, context=every_failure)["stop_reason"] == "passed"

    def later_run(actor):
        graph = create_reflexion_agent(
            actor=actor,
            evaluator=lambda task, answer: True,
            reflector=LLMReflector(ScriptedChatModel(replies=[])),
            memory=memory,
        )
        return [r["text"] for r in graph.invoke({"task": UNLIKE})["recalled"]]

    with_tool = ScriptedChatModel(replies=["Answer: yes"])
    assert later_run(create_tool_actor(with_tool, [current_weather])) == [
        "When calling current_weather: pass units='metric'."
    ]
    assert "When calling current_weather" in with_tool.prompt_text(0)
    assert later_run(LLMActor(ScriptedChatModel(replies=["Answer: yes"]))) == []
