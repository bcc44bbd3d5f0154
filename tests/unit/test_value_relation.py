"""How an expected value follows from an attempt's: found from the two reprs, no model."""

from __future__ import annotations

import pytest

from reflexion_graph._value_relation import as_instruction, value_relation


@pytest.mark.parametrize(
    "expected, actual, relation",
    [
        ("25", "0.25", "the attempt's value times 100, as an int"),
        ("67", "0.6666666666666666", "the attempt's value times 100, rounded to an int"),
        ("15", "900", "the attempt's value divided by 60, as an int"),
        ("120", "2", "the attempt's value times 60"),
        ("0.7", "70", "the attempt's value divided by 100"),
        ("33", "33.33333333333333", "the attempt's value rounded to an int"),
        ("12.35", "12.349", "the attempt's value rounded to 2 decimal places"),
        ("7", "6", "the attempt's value + 1"),
        ("2", "1", "the attempt's value + 1"),
        ("'v1.4.3'", "'1.4.3'", "the attempt's value with `v` in front"),
        ("'3 min'", "'3'", "the attempt's value with ` min` after it"),
        ("'content-type'", "'Content-Type'", "the attempt's value in lower case"),
        (
            "{'x-id': '7'}",
            "{'X-Id': '7'}",
            "the attempt's value with every string in lower case",
        ),
        ("['go', 'web']", "['web', 'go']", "the attempt's items, sorted"),
        ("['ai', 'py']", "{'py', 'ai'}", "the attempt's items, sorted as a list"),
        ("(255, 110, 10)", "(260, 110, 10)", "the attempt's value with each number at most 255"),
        ("(0, 90)", "(-5, 90)", "the attempt's value with each number at least 0"),
        (
            "{'ok': True, 'data': 'ann'}",
            "'ann'",
            "the attempt's value inside `{'ok': True, 'data': <the value>}`",
        ),
        (
            "'2026-04-03'",
            "'2026-04-03T00:00:00'",
            "the attempt's value without the `T00:00:00` after it",
        ),
        ("'v1.2'", "'release v1.2'", "the attempt's value without the `release ` in front"),
        ("'Y'", "True", "a `str`, not a `bool`"),
        ("1800", "'$18.00'", "an `int`, not a `str`"),
    ],
)
def test_a_plain_relation_is_named(expected, actual, relation):
    assert value_relation(expected, actual) == relation


def test_an_exact_relation_leaves_out_an_offset_of_one():
    assert value_relation("2", "1") == "the attempt's value + 1"
    assert value_relation("2", "1", exact=True) == ""
    assert value_relation("100", "1", exact=True) == "the attempt's value times 100"


@pytest.mark.parametrize(
    "expected, actual",
    [
        ("'Lovelace, Ada'", "'Ada Lovelace'"),  # no one plain way
        ("True", "False"),
        ("(1, 2)", "(5, 0)"),  # no single bound holds for both numbers
        ("{'ok': False, 'error': 'bad request'}", "None"),
        ("1704067200", "datetime.datetime(2024, 1, 1)"),  # not a literal
        ("5", "5"),
        ("1", "9"),  # rounding is said only of a fraction the attempt gave
        ("__import__('os').system('true')", "1"),  # read, never run
    ],
)
def test_values_with_no_plain_relation_have_none(expected, actual):
    assert value_relation(expected, actual) == ""


@pytest.mark.parametrize(
    ("relation", "verb", "noun", "told"),
    [
        ("the attempt's value times 100, as an int", "Return", "result",
         "Return the result times 100, as an int"),
        ("the attempt's value times 10", "Pass", "value", "Pass the value times 10"),
        ("the attempt's items, sorted as a list", "Return", "result",
         "Return the items, sorted as a list"),
        ("a `str`, not a `bool`", "Return", "result", "Return a `str`, not a `bool`"),
    ],
)  # fmt: skip
def test_a_relation_is_told_as_what_to_do(relation, verb, noun, told):
    assert as_instruction(relation, verb, noun) == told
