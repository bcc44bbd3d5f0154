"""The task families judged in the real sandbox: every reference passes, feedback is useful."""

import pytest

from reflexion_graph.bench import family_tasks, load_families

pytestmark = pytest.mark.integration

FAMILIES = load_families()


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_every_reference_passes(family):
    for task in family.tasks:
        verdict = task.evaluator.evaluate(task.prompt, task.reference)
        assert verdict["passed"], (task.id, verdict["feedback"])


def test_feedback_shows_expected_and_actual_but_never_the_convention():
    cents = family_tasks("dev")[0]
    verdict = cents.feedback.evaluate(
        cents.prompt, "```python\ndef line_total(p, q):\n    return p * q\n```"
    )
    assert "(expected 700, got 7.0)" in verdict["feedback"]
    forecast = next(t for t in family_tasks("dev") if t.id == "forecast-compact-dates/1")
    wrong = '{"name": "get_forecast", "arguments": {"city": "Paris", "date": "2025-03-03"}}'
    verdict = forecast.feedback.evaluate(forecast.prompt, wrong)
    assert verdict["feedback"] == "argument 'date'='2025-03-03' is not right (expected '20250303')"
    for family in FAMILIES:
        for task in family_tasks():
            assert family.convention not in task.prompt + task.system_prompt
