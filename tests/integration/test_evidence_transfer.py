"""On the default model: a task's failed check is kept as evidence, with no model call, and a
sibling task shown it as an example passes (real Chroma on disk, real MiniLM, the real sandbox)."""

import pytest

from reflexion_graph import (
    ModelSettings,
    ReflexionContext,
    create_chat_model,
    create_reflexion_agent,
)
from reflexion_graph.evaluators import CodeTestEvaluator
from reflexion_graph.memory import ChromaLessonMemory
from tests.integration.test_hindsight_transfer import (
    GREETING,
    GREETING_TESTS,
    ROLL_CALL,
    ROLL_CALL_TESTS,
)

pytestmark = pytest.mark.integration

EVIDENCE_ONLY = ReflexionContext(max_attempts=1, remember="evidence")


def test_a_failed_check_is_recalled_by_a_sibling_task_that_then_passes(
    default_server, tmp_path, embeddings
):
    memory = ChromaLessonMemory(path=tmp_path / "memory", embeddings=embeddings)
    model = create_chat_model(
        ModelSettings(base_url=default_server.base_url, model=default_server.alias, seed=1)
    )
    first = create_reflexion_agent(
        model, evaluator=CodeTestEvaluator(GREETING_TESTS, entry_point="greeting"), memory=memory
    ).invoke({"task": GREETING}, context=EVIDENCE_ONLY)
    assert not first["attempts"][0]["evaluation"]["passed"], "the house style was guessed"
    assert first["usage"]["model_calls"] == 1  # the attempt alone: evidence needs no model
    [evidence] = list(memory.lessons())
    assert evidence["source"] == "evidence" and "'Ahoy, Ana!'" in evidence["text"]

    sibling = create_reflexion_agent(
        model, evaluator=CodeTestEvaluator(ROLL_CALL_TESTS, entry_point="roll_call"), memory=memory
    )
    second = sibling.invoke({"task": ROLL_CALL}, context=EVIDENCE_ONLY)
    assert [lesson["id"] for lesson in second["recalled"]] == [evidence["id"]]
    assert second["attempts"][0]["evaluation"]["passed"], second["attempts"][0]["answer"]
    [credited] = list(memory.lessons())
    assert (credited["recalls"], credited["helped"]) == (1, 1)
