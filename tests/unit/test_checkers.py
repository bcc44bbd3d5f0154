import pytest

from reflexion_graph import ConfigurationError
from reflexion_graph.evaluators import (
    CountdownEvaluator,
    FunctionCallEvaluator,
    JSONSchemaEvaluator,
)

NUMBERS, TARGET = [3, 5, 7, 2], 24


@pytest.mark.parametrize(
    "answer",
    [
        "(3 * 7) + 5 - 2",
        "Let me think.\nAnswer: (3 * 7) + 5 - 2 = 24",
        "I get 3*7 + 5 - 2 = 24, done",
        "Answer: 7 \u00d7 3 + 5 - 2",
    ],
)
def test_countdown_accepts_a_valid_equation_with_text_around_it(answer):
    assert CountdownEvaluator(NUMBERS, TARGET).evaluate("t", answer)["passed"]


@pytest.mark.parametrize(
    "answer,feedback",
    [
        ("5 * 2 + 7 * 2", "uses 2 2 time(s) but it is given 1 time(s)"),
        ("3 * 5 + 7", "equals 22, not 24"),
        ("7 / (5 - 5) + 3", "divides by zero"),
        ("3 ** 2 + 7", "may only combine the given numbers with + - * /"),
        ("no equation here", "No equation"),
        ("3 * (7 + ", "not well formed"),
    ],
)
def test_countdown_failures_explain_themselves(answer, feedback):
    verdict = CountdownEvaluator(NUMBERS, TARGET).evaluate("t", answer)
    assert not verdict["passed"] and feedback in verdict["feedback"]


def test_countdown_division_by_zero_and_integer_steps():
    assert (
        "divides by zero"
        in CountdownEvaluator([4, 2, 2], 1).evaluate("t", "4 / (2 - 2)")["feedback"]
    )
    fractional = "7 / 2 * 4 - 2"  # 3.5 along the way, 12 in the end
    assert CountdownEvaluator([7, 2, 4, 2], 12).evaluate("t", fractional)["passed"]
    strict = CountdownEvaluator([7, 2, 4, 2], 12, integer_steps=True).evaluate("t", fractional)
    assert "non-integer intermediate result (7/2)" in strict["feedback"]


def test_countdown_use_all_and_bad_numbers():
    assert not CountdownEvaluator(NUMBERS, 22, use_all=True).evaluate("t", "3*5+7")["passed"]
    with pytest.raises(ConfigurationError, match="must be integers"):
        CountdownEvaluator([1.5], 3)


@pytest.mark.parametrize(
    "answer",
    [
        '{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}',
        'Calling: get_weather(city="paris", unit="celsius")',
        '[{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}]',
    ],
)
def test_function_call_matches_name_and_arguments(answer):
    evaluator = FunctionCallEvaluator("get_weather", {"city": ["Paris"], "unit": ["celsius", ""]})
    assert evaluator.evaluate("t", answer)["passed"]


@pytest.mark.parametrize(
    "answer,feedback,score",
    [
        ('{"name": "get_time", "arguments": {}}', "Called 'get_time'", 0.0),
        ('get_weather(city="Lyon", unit="celsius")', "argument 'city'='Lyon' is not right", 0.5),
        ('get_weather(unit="celsius")', "missing argument 'city'", 0.5),
        ('get_weather(city="Paris", unit="celsius", days=3)', "unexpected argument 'days'", 2 / 3),
        ("I would check the weather.", "No function call found", 0.0),
    ],
)
def test_function_call_failures(answer, feedback, score):
    evaluator = FunctionCallEvaluator.exact("get_weather", {"city": "Paris", "unit": "celsius"})
    verdict = evaluator.evaluate("t", answer)
    assert not verdict["passed"] and feedback in verdict["feedback"]
    assert verdict["score"] == pytest.approx(score)


def test_function_call_acceptable_values_must_be_lists():
    with pytest.raises(ConfigurationError, match="must be a list"):
        FunctionCallEvaluator("f", {"x": "Paris"})


SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
}


def test_json_schema_valid_invalid_and_missing():
    evaluator = JSONSchemaEvaluator(SCHEMA)
    assert evaluator.evaluate("t", 'Here: ```json\n{"name": "Ada", "age": 36}\n```')["passed"]
    bad = evaluator.evaluate("t", '{"name": "Ada", "age": -1}')
    assert not bad["passed"] and "at age:" in bad["feedback"]
    assert evaluator.evaluate("t", "no json")["feedback"] == "The answer contains no JSON."
    with pytest.raises(ConfigurationError, match="invalid JSON schema"):
        JSONSchemaEvaluator({"type": "nonsense"})
