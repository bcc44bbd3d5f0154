"""Token streaming and batches against the one embedded server."""

import pytest
from langchain_core.messages import AIMessageChunk

from reflexion_graph import ReflexionContext, create_reflexion_agent
from reflexion_graph.evaluators import ExactMatchEvaluator

pytestmark = pytest.mark.integration


def test_messages_mode_streams_the_actors_tokens(embedded_model):
    graph = create_reflexion_agent(embedded_model, evaluator=ExactMatchEvaluator("4"))
    chunks = [
        (chunk, meta)
        for chunk, meta in graph.stream(
            {"task": "What is 2 + 2? End with 'Answer: <number>'."},
            context=ReflexionContext(max_attempts=1),
            stream_mode="messages",
        )
    ]
    actor_tokens = [
        c
        for c, meta in chunks
        if meta["langgraph_node"] == "actor" and isinstance(c, AIMessageChunk)
    ]
    assert len(actor_tokens) > 3
    assert "".join(str(c.content) for c in actor_tokens).strip()


async def test_abatch_runs_many_tasks_against_one_server(embedded_model):
    graph = create_reflexion_agent(embedded_model, evaluator=ExactMatchEvaluator("4"))
    tasks = [
        {"task": f"What is {a} + {b}? End with 'Answer: <number>'."}
        for a, b in ((1, 3), (2, 2), (0, 4))
    ]
    results = await graph.abatch(
        tasks, config={"max_concurrency": 3}, context=ReflexionContext(max_attempts=1)
    )
    assert [r["task"] for r in results] == [t["task"] for t in tasks]
    assert all(len(r["attempts"]) == 1 and r["usage"]["model_calls"] == 1 for r in results)
