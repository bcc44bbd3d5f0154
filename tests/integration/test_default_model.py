"""What needs a capable model runs on the default one (Qwen2.5-Coder-1.5B-Instruct)."""

import pytest
from langchain_core.messages import AIMessage

from reflexion_graph import (
    LLMReflector,
    ReflexionContext,
    create_reflexion_agent,
    make_evaluation,
)
from reflexion_graph._records import Attempt
from reflexion_graph.actors._tools import attempt_result
from reflexion_graph.evaluators import CodeTestEvaluator, RegexEvaluator
from reflexion_graph.loop._policy import lesson_of_failure
from reflexion_graph.models import (
    DEFAULT_MODEL,
    ModelSettings,
    catalogue_model,
    create_chat_model,
)
from tests.tools import answered

pytestmark = pytest.mark.integration

MEDIAN = "Write a Python function median(xs) that returns the median of a list of numbers."
MEDIAN_TESTS = "assert median([3, 1, 2]) == 2\nassert median([]) == 0.0"


def test_the_default_server_serves_the_catalogue_default(default_server):
    assert default_server.alias == catalogue_model(DEFAULT_MODEL).alias
    assert default_server.gguf_path.stat().st_size == catalogue_model(DEFAULT_MODEL).size


def test_reflections_name_the_real_mistake(default_server):
    answer = (
        "```python\nimport statistics\n\ndef median(xs):\n    return statistics.median(xs)\n```"
    )
    evaluation = CodeTestEvaluator(MEDIAN_TESTS).evaluate(MEDIAN, answer)
    assert "(expected 0.0)" in evaluation["feedback"]  # what the reflector reads
    attempt = Attempt(number=1, answer=answer, evaluation=evaluation)
    lessons = []
    for seed in (1, 2, 3):  # a small model's lessons vary: most must name the mistake
        model = create_chat_model(
            ModelSettings(base_url=default_server.base_url, model=default_server.alias, seed=seed)
        )
        lessons.append(LLMReflector(model).reflect(MEDIAN, attempt)["text"])
    naming = [text for text in lessons if "0.0" in text and "empty" in text.lower()]
    assert len(naming) >= 2, "\n".join(lessons)
    assert not any("```" in text for text in lessons)


POPULATION = {"Paris": 2, "Lyon": 1}


def lookup_population(city: str) -> str:
    """Population of a French city, in millions of people."""
    return str(POPULATION.get(city, "unknown"))


def test_the_default_model_calls_a_real_tool(default_model):
    graph = create_reflexion_agent(
        default_model, tools=[lookup_population], evaluator=RegexEvaluator(r"\b2\b")
    )
    result = graph.invoke(
        {"task": "How many million people live in Paris? Look it up with the tool."},
        context=ReflexionContext(max_attempts=1),
    )
    answer = result["attempts"][0]["answer"]
    assert "[tool call] lookup_population" in answer, answer
    assert "[tool result] lookup_population: 2" in answer


LEFT_FAILING = attempt_result(  # the weather call's units were refused, and the attempt gave up
    [
        *answered("geocode", "48.85,2.35", city="Paris"),
        *answered(
            "current_weather",
            "units must be 'standard' or 'metric'",
            True,
            lat=48.85,
            lon=2.35,
            units="celsius",
        ),
        AIMessage("Answer: unknown"),
    ]
)


def test_a_lesson_on_a_tool_left_failing_is_blamed_on_that_tool_and_stored_with_it(
    default_server,
):
    task = "What is the temperature in Paris now, in degrees Celsius?"
    attempt = Attempt(
        number=1,
        answer=LEFT_FAILING.answer,
        evaluation=make_evaluation(False, feedback="Expected 21.0 (degrees Celsius), got none."),
        steps=list(LEFT_FAILING.steps),
    )
    for seed in (1, 2):  # whatever tool the model's own Step line names (see blame_bench.py)
        model = create_chat_model(
            ModelSettings(base_url=default_server.base_url, model=default_server.alias, seed=seed)
        )
        lesson = LLMReflector(model).reflect(task, attempt)
        assert "Step: <tool name>" in lesson["prompt"]
        assert lesson["step"] == "current_weather", lesson["text"]
        stored = lesson_of_failure(lesson)
        if lesson["rule"]:
            assert stored["text"].startswith("When calling current_weather: "), stored["text"]
