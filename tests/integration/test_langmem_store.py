"""LangMem's memory tools on ChromaStore, inside a graph, answered as on InMemoryStore.

LangMem stores a memory as ``{"content": ...}`` under a uuid key and finds it with the
store's semantic search and filters; the tools reach the store through ``get_store()``, so
they run inside a graph compiled with ``store=``.
"""

import json
import uuid

import chromadb
import langmem
import pytest
from chromadb.config import Settings
from langgraph.graph import END, START, StateGraph
from langgraph.store.memory import InMemoryStore
from pydantic import BaseModel
from typing_extensions import TypedDict

from reflexion_graph.stores import ChromaStore

pytestmark = pytest.mark.integration


class Person(BaseModel):
    name: str
    age: int
    city: str


class Session(TypedDict, total=False):
    found: dict


def memory_session(**_):
    """Create, update, search (plain and filtered) and delete, as an agent's tool calls."""
    manage = langmem.create_manage_memory_tool(namespace=("people",), schema=Person)
    search = langmem.create_search_memory_tool(namespace=("people",))

    def created_id(reply):
        return uuid.UUID(reply.split()[-1])

    def keys(**query):
        return [(m["key"], round(m["score"], 4)) for m in json.loads(search.invoke(query))]

    def node(state):
        ana = created_id(manage.invoke({"content": {"name": "Ana", "age": 30, "city": "Lima"}}))
        bo = created_id(manage.invoke({"content": {"name": "Bo", "age": 12, "city": "Oslo"}}))
        cy = created_id(manage.invoke({"content": {"name": "Cy", "age": 45, "city": "Lima"}}))
        manage.invoke(
            {"action": "update", "id": bo, "content": {"name": "Bo", "age": 13, "city": "Bergen"}}
        )
        found = {
            "ids": [str(ana), str(bo), str(cy)],
            "query": keys(query="someone who lives in Norway"),
            "by_name": keys(query="person", filter={"content": {"name": "Ana"}}),
            "adults": keys(query="person", filter={"content": {"age": {"$gte": 18}}}),
            "in_lima": keys(query="Peru", filter={"content": {"city": "Lima"}}),
        }
        manage.invoke({"action": "delete", "id": cy})
        found["after_delete"] = keys(query="person")
        return {"found": found}

    return node


def run_session(store):
    graph = StateGraph(Session)
    graph.add_node("memories", memory_session())
    graph.add_edge(START, "memories")
    graph.add_edge("memories", END)
    return graph.compile(store=store).invoke({})["found"]


def test_langmem_tools_on_chroma_store_answer_as_on_in_memory_store(embeddings, tmp_path):
    index = {"dims": 384, "embed": embeddings, "fields": ["$"]}
    client = chromadb.PersistentClient(
        path=str(tmp_path / "chroma"), settings=Settings(anonymized_telemetry=False)
    )
    on_chroma = run_session(ChromaStore(client, index=index))
    on_memory = run_session(InMemoryStore(index=index))

    ana, bo, cy = on_chroma["ids"]
    assert [key for key, _ in on_chroma["by_name"]] == [ana]
    assert sorted(key for key, _ in on_chroma["adults"]) == sorted([ana, cy])
    assert sorted(key for key, _ in on_chroma["in_lima"]) == sorted([ana, cy])
    assert on_chroma["query"][0][0] == bo  # the updated value (Bergen) was re-embedded
    assert sorted(key for key, _ in on_chroma["after_delete"]) == sorted([ana, bo])

    def by_position(found):
        ids = found["ids"]
        return {
            name: [(ids.index(key), score) for key, score in hits]
            for name, hits in found.items()
            if name != "ids"
        }

    chroma, memory = by_position(on_chroma), by_position(on_memory)
    for name in chroma:
        assert [i for i, _ in chroma[name]] == [i for i, _ in memory[name]], name
        for (_, ours), (_, theirs) in zip(chroma[name], memory[name], strict=True):
            assert ours == pytest.approx(theirs, abs=1e-3), name
