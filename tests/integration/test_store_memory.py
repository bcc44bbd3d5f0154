"""StoreLessonMemory on LangGraph's InMemoryStore with the real offline embeddings."""

import pytest
from langgraph.store.memory import InMemoryStore

from reflexion_graph import (
    ConfigurationError,
    LLMActor,
    LLMReflector,
    ReflexionContext,
    create_reflexion_agent,
)
from reflexion_graph.memory import MiniLMEmbeddings, StoreLessonMemory
from tests.fakes import ScriptedChatModel

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def store():
    return InMemoryStore(index={"embed": MiniLMEmbeddings(), "dims": 384, "fields": ["task"]})


def run(task, actor_replies, reflections, store, scope="global"):
    actor = ScriptedChatModel(replies=actor_replies)
    graph = create_reflexion_agent(
        evaluator=lambda t, answer: answer == "right",
        actor=LLMActor(actor),
        reflector=LLMReflector(ScriptedChatModel(replies=reflections)),
        memory=StoreLessonMemory(),  # the graph's own store
        store=store,
    )
    return graph.invoke({"task": task}, context=ReflexionContext(memory_scope=scope)), actor


def test_lessons_cross_tasks_through_the_graph_store(store):
    rule = "When reversing text, use slicing s[::-1]."
    first, _ = run(
        "Write a Python function that reverses a string.",
        ["wrong", "right", "right"],  # the attempts, then the rule's replay
        ["Use slicing.", rule],  # the in-run lesson, then the hindsight rule
        store,
    )
    assert first["reflections"][0]["outcome"] == "passed"
    assert first["learned"][0]["replay"] == "passed"

    second, actor = run(
        "Implement a function returning the given text backwards.", ["right"], [], store
    )
    assert [r["text"] for r in second["recalled"]] == [rule]
    assert rule in actor.prompt_text(0)
    [item] = store.search(("reflexion", "lessons", "global"))
    assert (item.value["recalls"], item.value["helped"]) == (2, 2)

    unrelated, _ = run("What is the capital city of France?", ["right"], [], store)
    assert unrelated["recalled"] == []
    other_tenant, _ = run(
        "Write a Python function that reverses a string.", ["right"], [], store, scope="tenant-b"
    )
    assert other_tenant["recalled"] == []


def test_a_store_without_index_is_a_clear_error():
    plain = InMemoryStore()
    memory = StoreLessonMemory(plain)
    plain.put(("reflexion", "lessons", "global"), "x", {"text": "t", "recalls": 1, "helped": 0})
    with pytest.raises(ConfigurationError, match="needs a store with a semantic index"):
        memory.search("anything", k=1, scope="global")


def test_no_store_at_all_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="has no store"):
        StoreLessonMemory().search("anything", k=1, scope="global")
