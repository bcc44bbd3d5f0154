"""create_agent with ReflexionMiddleware on the default model: it fails, learns, passes, and
a second thread recalls the lesson (real sandbox, real Chroma on disk, real MiniLM)."""

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage

from reflexion_graph import ModelSettings, ReflexionMiddleware, create_chat_model
from reflexion_graph.evaluators import CodeTestEvaluator
from reflexion_graph.memory import ChromaLessonMemory
from tests.integration.test_hindsight_transfer import (
    GREETING,
    GREETING_TESTS,
    ROLL_CALL,
    ROLL_CALL_TESTS,
)

pytestmark = pytest.mark.integration


def reflexion_agent(model, tests, entry_point, memory):
    middleware = ReflexionMiddleware(
        evaluator=CodeTestEvaluator(tests, entry_point=entry_point),
        memory=memory,
        lesson_candidates=2,
    )
    return create_agent(model, system_prompt="You write correct, short Python.",
                        middleware=[middleware])  # fmt: skip


def events_of(agent, task):
    stream = agent.stream({"messages": [HumanMessage(task)]}, stream_mode="custom")
    return [event["reflexion"] for event in stream]


def test_the_middleware_retries_a_failed_answer_and_a_second_thread_recalls_the_lesson(
    default_server, tmp_path, embeddings
):
    memory = ChromaLessonMemory(path=tmp_path / "memory", embeddings=embeddings)
    summary = {}
    for seed in (1, 2, 3):  # a 1.5B model does not always fail, then pass: try a few seeds
        model = create_chat_model(
            ModelSettings(base_url=default_server.base_url, model=default_server.alias, seed=seed)
        )
        events = events_of(reflexion_agent(model, GREETING_TESTS, "greeting", memory), GREETING)
        summary = events[-1]
        if summary["attempts"] >= 2 and summary["passed"] and summary["lessons_saved"]:
            break
    assert summary["type"] == "summary" and summary["passed"] and summary["attempts"] >= 2, events
    kinds = [event["type"] for event in events]
    assert kinds[:2] == ["recalled", "verdict"] and "lesson" in kinds
    lessons = list(memory.lessons())  # the default policy: the rule and the failed checks
    [stored] = [lesson for lesson in lessons if lesson["source"] != "evidence"]
    assert stored["replay"] == "passed" and "Ahoy" in stored["evidence"]
    evidence = [lesson["text"] for lesson in lessons if lesson["source"] == "evidence"]
    assert evidence and all("'Ahoy, " in text for text in evidence)

    sibling = reflexion_agent(model, ROLL_CALL_TESTS, "roll_call", memory)
    recalled = events_of(sibling, ROLL_CALL)[0]
    assert recalled["type"] == "recalled" and recalled["lessons"][0] == stored["text"]
    assert set(recalled["lessons"][1:]) <= set(evidence)
