"""On the default model: a hindsight lesson is verified by its replay, stored, and recalled by a
sibling task (real Chroma on disk, real MiniLM embeddings, the real sandbox)."""

import pytest

from reflexion_graph import (
    ModelSettings,
    ReflexionContext,
    create_chat_model,
    create_reflexion_agent,
)
from reflexion_graph.evaluators import CodeTestEvaluator
from reflexion_graph.memory import ChromaLessonMemory

pytestmark = pytest.mark.integration

CONTEXT = "In the ship's crew module, greetings follow the house style."
GREETING = (
    f"{CONTEXT}\nWrite the Python function `greeting(name)`. It returns the greeting for a crew "
    "member.\nAnswer with the whole function in one ```python block."
)
GREETING_TESTS = "assert greeting('Ana') == 'Ahoy, Ana!'\nassert greeting('Bo') == 'Ahoy, Bo!'"
ROLL_CALL = (
    f"{CONTEXT}\nWrite the Python function `roll_call(names)`. It returns the greeting for each "
    "crew member, as a list.\nAnswer with the whole function in one ```python block."
)
ROLL_CALL_TESTS = "assert roll_call(['Cy']) == ['Ahoy, Cy!']"


def test_a_verified_hindsight_lesson_is_stored_and_a_sibling_task_recalls_it(
    default_server, tmp_path, embeddings
):
    memory = ChromaLessonMemory(path=tmp_path / "memory", embeddings=embeddings)
    context = ReflexionContext(max_attempts=3, lesson_candidates=2, remember="hindsight")
    learnt = []
    for seed in (1, 2, 3):  # a 1.5B model does not always fail, then pass: try a few seeds
        model = create_chat_model(
            ModelSettings(base_url=default_server.base_url, model=default_server.alias, seed=seed)
        )
        agent = create_reflexion_agent(
            model,
            evaluator=CodeTestEvaluator(GREETING_TESTS, entry_point="greeting"),
            memory=memory,
        )
        result = agent.invoke({"task": GREETING}, context=context)
        learnt = [r for r in result["learned"] if r["replay"] == "passed"]
        if learnt:
            break
    assert learnt, "no seed failed, passed and wrote a rule its replay confirmed"
    [lesson] = learnt
    assert "Ahoy" in lesson["text"]  # the rule names the convention
    assert "Ahoy" in lesson["evidence"]
    stored = {item["id"]: item for item in memory.lessons()}
    assert stored[lesson["id"]]["text"] == lesson["text"]

    sibling = create_reflexion_agent(
        model, evaluator=CodeTestEvaluator(ROLL_CALL_TESTS, entry_point="roll_call"), memory=memory
    )
    second = sibling.invoke(
        {"task": ROLL_CALL}, context=ReflexionContext(max_attempts=1, remember="hindsight")
    )
    assert [r["id"] for r in second["recalled"]] == [lesson["id"]]
