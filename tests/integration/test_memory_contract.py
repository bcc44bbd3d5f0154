"""The contract every lesson memory keeps: the same cases against ChromaReflectionMemory and
StoreReflectionMemory (on LangGraph's InMemoryStore), with the real MiniLM embeddings."""

import asyncio

import pytest
from langgraph.store.memory import InMemoryStore

from reflexion_graph import ConfigurationError, make_reflection
from reflexion_graph.memory import ChromaReflectionMemory, StoreReflectionMemory

pytestmark = pytest.mark.integration

REVERSE = "Write a Python function that reverses a string."
BACKWARDS = "Implement a function returning the given text backwards."
CAPITAL = "What is the capital city of France?"


@pytest.fixture(params=["chroma", "store"])
def memory(request, tmp_path, embeddings):
    if request.param == "chroma":
        return ChromaReflectionMemory(path=tmp_path / "memory", embeddings=embeddings)
    store = InMemoryStore(index={"embed": embeddings, "dims": 384, "fields": ["task"]})
    return StoreReflectionMemory(store)


def lesson(text, task=REVERSE, **metadata):
    return {**make_reflection(text, task=task, attempt=1, metadata=metadata), "outcome": "passed"}


def test_a_saved_lesson_is_recalled_by_a_similar_task_only(memory):
    memory.save([lesson("When reversing text, use slicing.")], scope="global")
    [found] = memory.search(BACKWARDS, k=3, scope="global")
    assert found["text"] == "When reversing text, use slicing."
    assert memory.search(CAPITAL, k=3, scope="global") == []


def test_scopes_are_apart_and_k_bounds_the_recall(memory):
    memory.save([lesson(f"When reversing text, rule {n}.") for n in range(4)], scope="team-a")
    assert memory.search(BACKWARDS, k=3, scope="team-b") == []
    assert len(memory.search(BACKWARDS, k=2, scope="team-a")) == 2


def test_a_lessons_metadata_comes_back_with_it(memory):
    memory.save(
        [lesson("When reversing, slice.", evidence="assert rev('ab') == 'ba'", step="")],
        scope="global",
    )
    [found] = memory.search(BACKWARDS, k=1, scope="global")
    assert found["metadata"]["evidence"] == "assert rev('ab') == 'ba'"
    assert found["outcome"] == "passed" and found["task"] == REVERSE


def test_a_lesson_blamed_on_a_step_is_found_by_that_step(memory):
    memory.save([lesson("When calling weather, pass the city id.", step="weather")], scope="s")
    [found] = memory.search_by_step(CAPITAL, ["weather"], k=3, scope="s")  # any task
    assert found["metadata"]["step"] == "weather"
    assert memory.search_by_step(CAPITAL, ["stocks"], k=3, scope="s") == []


def test_usage_is_counted_and_unknown_ids_are_ignored(memory):
    saved = lesson("When reversing text, use slicing.")
    memory.save([saved], scope="global")
    memory.record_usage([saved["id"], "no-such-id"], passed=True, scope="global")
    [found] = memory.search(BACKWARDS, k=1, scope="global")
    assert found["id"] == saved["id"]


def test_a_malformed_batch_is_refused_whole(memory):
    good = lesson("When reversing text, use slicing.")
    bad = {**lesson("When in doubt, slice."), "text": "  "}
    with pytest.raises(ConfigurationError, match="'text'"):
        memory.save([good, bad], scope="global")
    assert memory.search(BACKWARDS, k=3, scope="global") == []


def test_the_async_twins_answer_as_the_sync_methods(memory):
    asyncio.run(memory.asave([lesson("When reversing text, use slicing.")], scope="global"))
    found = asyncio.run(memory.asearch(BACKWARDS, k=3, scope="global"))
    assert [r["text"] for r in found] == [
        r["text"] for r in memory.search(BACKWARDS, k=3, scope="global")
    ]
