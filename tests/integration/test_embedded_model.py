import subprocess
import sys
import textwrap

import pytest
from langchain_core.callbacks import get_usage_metadata_callback

from reflexion_graph import LLMReflector, ReflexionContext, create_reflexion_agent
from reflexion_graph._records import Attempt, make_evaluation
from reflexion_graph.evaluators import CodeTestEvaluator, ExactMatchEvaluator
from reflexion_graph.models import ModelSettings, create_chat_model, start_embedded_server
from reflexion_graph.models._binding import repeatable, with_options
from tests.conftest import SMALL_MODEL

pytestmark = pytest.mark.integration

TASK = "Write a Python function add(a, b) that returns the sum of a and b."
TESTS = "assert add(2, 3) == 5\nassert add(-1, 1) == 0"


def test_full_loop_on_the_real_model(embedded_model):
    graph = create_reflexion_agent(embedded_model, evaluator=CodeTestEvaluator(TESTS))
    result = graph.invoke({"task": TASK}, context=ReflexionContext(max_attempts=2))

    attempts = result["attempts"]
    assert [a["number"] for a in attempts] == list(range(1, len(attempts) + 1))
    assert all(a["evaluation"]["source"] == "tests" and a["answer"] for a in attempts)
    assert result["stop_reason"] == (
        "passed" if attempts[-1]["evaluation"]["passed"] else "max_attempts"
    )
    assert result["best"]["evaluation"]["score"] == max(a["evaluation"]["score"] for a in attempts)
    assert len(result["reflections"]) == len(attempts) - 1
    for reflection in result["reflections"]:
        assert reflection["text"] and reflection["outcome"] != "pending"
        assert attempts[0]["evaluation"]["feedback"] in reflection["prompt"]
    usage = result["usage"]
    assert usage["model_calls"] == len(attempts) + len(result["reflections"])
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0


async def test_async_run_on_the_real_model(embedded_model):
    graph = create_reflexion_agent(embedded_model, evaluator=ExactMatchEvaluator("Paris"))
    result = await graph.ainvoke(
        {"task": "What is the capital of France? End with 'Answer: <city>'."},
        context=ReflexionContext(max_attempts=1),
    )
    assert len(result["attempts"]) == 1
    assert result["usage"]["model_calls"] == 1
    assert result["messages"][-1].content == result["attempts"][0]["answer"]


def test_server_is_reused_while_alive(embedded_server):
    assert start_embedded_server(ModelSettings(embedded_model=SMALL_MODEL)) is embedded_server
    assert embedded_server.alive()


def test_server_stops_when_its_process_exits(tmp_path):
    script = textwrap.dedent("""
        from reflexion_graph.models import ModelSettings, start_embedded_server
        server = start_embedded_server(ModelSettings(embedded_model="smollm2-135m"))
        print(server.process.pid, flush=True)
    """)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    pid = int(out.stdout.split()[-1])
    gone = subprocess.run(["ps", "-p", str(pid)], capture_output=True)
    assert gone.returncode == 1, f"server process {pid} outlived its parent"


async def test_a_lesson_stops_near_where_it_would_be_cut(embedded_server):
    model = create_chat_model(
        ModelSettings(base_url=embedded_server.base_url, model=embedded_server.alias, seed=7)
    )
    reflector = LLMReflector(
        model, system_prompt="Write a very long essay, at least 1000 words, about the failure."
    )
    attempt = Attempt(
        number=1,
        answer="def add(a, b):\n    return a - b",
        evaluation=make_evaluation(False, feedback="add(2, 3) returned -1, expected 5"),
    )
    with get_usage_metadata_callback() as usage:
        lesson = await reflector.areflect(TASK, attempt)
    [tokens] = usage.usage_metadata.values()
    assert 0 < tokens["output_tokens"] <= 160  # the reflector's cap; the model's own is 512
    assert 0 < len(lesson["text"]) <= 600


def test_a_repeatable_model_gives_a_seeded_request_the_same_reply_whatever_came_before(
    embedded_model,
):
    """A prompt prefix the server cached from another request changes the sample; not here."""
    model = repeatable(embedded_model)
    system = ("system", "You are a helpful assistant who answers in full sentences. " * 8)

    def ask(question, seed):
        messages = [system, ("user", question)]
        return with_options(model, seed=seed, max_tokens=60).invoke(messages).content

    question = "Name three colours and say why you like one of them."
    first = ask(question, 11)
    ask("Count from one to twenty in words.", 3)
    assert ask(question, 11) == first
    assert model.extra_body == {"cache_prompt": False} and not embedded_model.extra_body
