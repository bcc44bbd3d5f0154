"""Probes of failed checks, through the real sandbox and verdict channel."""

import pytest

from reflexion_graph.evaluators import CodeTestEvaluator

pytestmark = pytest.mark.integration

HAS_TAG_TESTS = "assert has_tag(['Python', 'SQL'], 'python') is True\nassert has_tag(['go'], 'go')"
CASE_SENSITIVE = "```python\ndef has_tag(tags, tag):\n    return tag in tags\n```"
DATE_TESTS = (
    "assert to_iso('03/04/2026') == '2026-04-03'\nassert to_iso('25/12/2025') == '2025-12-25'"
)
MONTH_FIRST = (
    "```python\ndef to_iso(text):\n    m, d, y = text.split('/')\n    return f'{y}-{m}-{d}'\n```"
)


def test_a_case_sensitive_answer_is_told_that_the_checks_ignore_letter_case():
    verdict = CodeTestEvaluator(HAS_TAG_TESTS).evaluate("has_tag", CASE_SENSITIVE)
    assert not verdict["passed"] and verdict["score"] == 0.5
    finding = (
        "The checks ignore letter case: start the function with "
        "`tags = [item.lower() for item in tags]` and keep the rest as it is."
    )
    assert verdict["findings"] == [finding]
    assert verdict["feedback"].endswith(
        f"Probe: {finding} (called as `has_tag(['python', 'sql'], 'python')`, the answer would "
        "return the expected `True`)"
    )


def test_a_month_first_answer_is_told_once_that_the_fields_are_the_other_way_round():
    """Both checks fail and both probes pass: one note says it."""
    verdict = CodeTestEvaluator(DATE_TESTS).evaluate("to_iso", MONTH_FIRST)
    assert not verdict["passed"]
    notes = [line for line in verdict["feedback"].splitlines() if line.startswith("Probe:")]
    assert len(notes) == 1 and len(verdict["findings"]) == 1
    assert notes[0].startswith("Probe: The checks take the first two `/`-separated fields")
    assert notes[0].endswith(
        "(called as `to_iso('04/03/2026')`, the answer would return the expected `'2026-04-03'`)"
    )


def test_no_note_where_no_probe_passes_or_probing_is_off():
    wrong = "```python\ndef has_tag(tags, tag):\n    return False\n```"
    none_passed = CodeTestEvaluator(HAS_TAG_TESTS).evaluate("t", wrong)
    assert "Probe:" not in none_passed["feedback"] and not none_passed["findings"]
    off = CodeTestEvaluator(HAS_TAG_TESTS, probe=False).evaluate("t", CASE_SENSITIVE)
    assert not off["passed"] and "Probe:" not in off["feedback"] and not off["findings"]


def test_each_argument_that_needs_lowercasing_gets_its_own_note():
    tests = HAS_TAG_TESTS + "\nassert has_tag(['go'], 'Go') is True"
    verdict = CodeTestEvaluator(tests).evaluate("t", CASE_SENSITIVE)
    assert verdict["findings"] == [
        "The checks ignore letter case: start the function with "
        "`tags = [item.lower() for item in tags]` and keep the rest as it is.",
        "The checks ignore letter case: start the function with `tag = tag.lower()` and keep "
        "the rest as it is.",
    ]


def test_an_answer_that_passes_only_its_probes_still_fails():
    lower_only = "```python\ndef has_tag(tags, tag):\n    return tag.islower() and tag in tags\n```"
    verdict = CodeTestEvaluator(HAS_TAG_TESTS).evaluate("t", lower_only)
    assert not verdict["passed"] and verdict["checks"]


def test_a_relation_every_failed_check_shares_is_a_finding_and_a_coincidence_is_not():
    iso = (
        "```python\ndef to_iso(text):\n    d, m, y = text.split('/')\n"
        "    return f'{y}-{m}-{d}T00:00:00'\n```"
    )
    verdict = CodeTestEvaluator(DATE_TESTS).evaluate("to_iso", iso)
    finding = "Return the result without the `T00:00:00` after it: every failed check expects that."
    assert verdict["findings"] == [finding]
    assert verdict["feedback"].endswith(f"Relation: {finding}")
    one_short = "```python\ndef count(xs):\n    return len(xs) - 1\n```"
    tests = "assert count([1, 2]) == 2\nassert count([1]) == 1"
    assert CodeTestEvaluator(tests).evaluate("count", one_short)["findings"] == []


def test_an_answer_that_raises_on_an_empty_argument_is_told_what_the_check_expects():
    raising = (
        "```python\ndef median(xs):\n    if not xs:\n        raise ValueError('empty')\n"
        "    return sorted(xs)[len(xs) // 2]\n```"
    )
    tests = "assert median([3, 1, 2]) == 2\nassert median([]) == 0.0"
    verdict = CodeTestEvaluator(tests).evaluate("median", raising)
    finding = "An empty `xs` is valid input: return `0.0` for it first, do not raise."
    assert not verdict["passed"] and verdict["findings"] == [finding]
    assert verdict["feedback"].endswith(f"Empty input: {finding}")
    wrong_value = (
        "```python\ndef median(xs):\n    return sorted(xs)[len(xs) // 2] if xs else 1\n```"
    )
    findings = CodeTestEvaluator(tests).evaluate("median", wrong_value)["findings"]
    assert not [f for f in findings if f.startswith("An empty")]
