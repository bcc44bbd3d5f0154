"""Findings through the real sandbox and verdict channel: told only when every check passes."""

import pytest

from reflexion_graph.evaluators import CodeTestEvaluator

pytestmark = pytest.mark.integration

HAS_TAG_TESTS = "assert has_tag(['python', 'sql'], 'Python') is True\nassert has_tag(['go'], 'go')"
CASE_SENSITIVE = "```python\ndef has_tag(tags, tag):\n    return tag in tags\n```"
DATE_TESTS = (
    "assert to_iso('03/04/2026') == '2026-04-03'\nassert to_iso('25/12/2025') == '2025-12-25'"
)
MONTH_FIRST = (
    "```python\ndef to_iso(text):\n    m, d, y = text.split('/')\n    return f'{y}-{m}-{d}'\n```"
)


def test_a_case_sensitive_answer_is_told_the_line_that_makes_every_check_pass():
    verdict = CodeTestEvaluator(HAS_TAG_TESTS).evaluate("has_tag", CASE_SENSITIVE)
    assert not verdict["passed"] and verdict["score"] == 0.5
    (finding,) = verdict["findings"]
    assert "`tag = tag.lower()`" in finding and finding.startswith("Every check passes")
    assert verdict["feedback"].endswith(f"Verified change: {finding}")


def test_a_month_first_answer_is_told_to_swap_the_fields():
    verdict = CodeTestEvaluator(DATE_TESTS).evaluate("to_iso", MONTH_FIRST)
    (finding,) = verdict["findings"]
    assert "text.split('/')" in finding and "[second, first, *rest]" in finding


def test_an_answer_both_of_whose_texts_need_lowercasing_is_told_both_lines():
    tests = (
        "assert starts_with('Hello', 'hE') is True\nassert starts_with('ABC', 'ab') is True\n"
        "assert starts_with('abc', 'b') is False"
    )
    answer = "```python\ndef starts_with(text, prefix):\n    return text.startswith(prefix)\n```"
    (finding,) = CodeTestEvaluator(tests).evaluate("starts_with", answer)["findings"]
    assert "`text = text.lower(); prefix = prefix.lower()`" in finding


def test_no_finding_where_no_change_passes_or_probing_is_off():
    wrong = "```python\ndef has_tag(tags, tag):\n    return False\n```"
    assert not CodeTestEvaluator(HAS_TAG_TESTS).evaluate("t", wrong)["findings"]
    off = CodeTestEvaluator(HAS_TAG_TESTS, probe=False).evaluate("t", CASE_SENSITIVE)
    assert not off["passed"] and "Verified change" not in off["feedback"] and not off["findings"]


def test_a_change_that_fixes_the_failed_checks_but_breaks_a_passing_one_is_refuted():
    ratio = "```python\ndef share(part, whole):\n    return part / whole\n```"
    fits_all = "assert share(1, 4) == 25\nassert share(1, 2) == 50"
    (told,) = CodeTestEvaluator(fits_all).evaluate("share", ratio)["findings"]
    assert "`round(result * 100)`" in told
    breaks_one = fits_all + "\nassert share(3, 3) == 1.0"  # passes now; * 100 would break it
    assert not CodeTestEvaluator(breaks_one).evaluate("share", ratio)["findings"]


def test_a_constant_read_off_one_failed_check_is_not_told():
    one_short = "```python\ndef count(xs):\n    return len(xs) - 1 if len(xs) > 1 else len(xs)\n```"
    tests = "assert count([1, 2]) == 2\nassert count([5]) == 1"  # + 1 fits, from one pair
    assert not CodeTestEvaluator(tests).evaluate("count", one_short)["findings"]


def test_an_answer_that_raises_on_an_empty_argument_is_told_the_guard():
    raising = (
        "```python\ndef median(xs):\n    if not xs:\n        raise ValueError('empty')\n"
        "    return sorted(xs)[len(xs) // 2]\n```"
    )
    tests = "assert median([3, 1, 2]) == 2\nassert median([]) == 0.0"
    (finding,) = CodeTestEvaluator(tests).evaluate("median", raising)["findings"]
    assert finding.startswith("An empty input is valid") and "`if not xs: return 0.0`" in finding


def test_an_answer_that_returns_the_wrong_value_for_an_empty_argument_is_told_the_guard():
    zero = "```python\ndef widest(rows):\n    return max((len(r) for r in rows), default=0)\n```"
    tests = "assert widest(['ab', 'c']) == 2\nassert widest([]) is None"
    (finding,) = CodeTestEvaluator(tests).evaluate("widest", zero)["findings"]
    assert "`if not rows: return None`" in finding


def test_what_the_changed_answer_does_cannot_turn_the_verdict():
    """A finding only adds to the feedback: the answer still fails."""
    verdict = CodeTestEvaluator(DATE_TESTS).evaluate("to_iso", MONTH_FIRST)
    assert not verdict["passed"] and verdict["score"] == 0.0 and verdict["findings"]


def test_a_model_proposed_change_that_breaks_a_passing_check_is_refuted_and_one_that_fits_is_told():
    from reflexion_graph.findings import ModelProposer
    from tests.fakes import ScriptedChatModel

    ratio = "```python\ndef share(part, whole):\n    return part / whole\n```"
    tests = "assert share(1, 4) == 25\nassert share(1, 2) == 50\nassert share(3, 3) == 1.0"
    writer = ScriptedChatModel(replies=["```python\nint(result * 100)\nimport os\n```"])
    only_model = CodeTestEvaluator(tests, proposers={"model": ModelProposer(writer)})
    assert not only_model.evaluate("share", ratio)["findings"]  # fits both failed, breaks the third
    assert "share(1, 4)" in writer.prompt_text(0) and "expected 25" in writer.prompt_text(0)

    fits = "assert share(1, 4) == 25\nassert share(1, 2) == 50"
    writer = ScriptedChatModel(replies=["```python\nreturn int(result * 100)\n```"])
    verdict = CodeTestEvaluator(fits, proposers={"model": ModelProposer(writer)}).evaluate(
        "s", ratio
    )
    (told,) = verdict["findings"]
    assert "`int(result * 100)`" in told and verdict["changes"][0]["source"] == "model"
