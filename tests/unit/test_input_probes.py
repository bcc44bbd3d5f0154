"""Probes of a failed check: which calls are probed, how, and the note a passing probe gives."""

from reflexion_graph.evaluators._input_probes import (
    empty_input_finding,
    parameters_of,
    probe_note,
    probes_of,
)

HAS_TAG = "assert has_tag(['Python', 'SQL'], 'python') is True"


def test_each_argument_alone_then_all_are_lowercased_and_the_comparison_is_kept():
    probes = probes_of(HAS_TAG, ["tags", "tag"])
    assert [(p.test, p.changed) for p in probes] == [
        ("assert has_tag(['python', 'sql'], 'python') is True", 1),
    ]
    assert probes[0].finding == (
        "The checks ignore letter case: start the function with "
        "`tags = [item.lower() for item in tags]` and keep the rest as it is."
    )
    assert probes[0].expected == "True"
    both = probes_of("assert has_tag(['go'], 'Go') is True", ["tags", "tag"])
    assert [(p.call, p.finding.split(": ")[1].split(" as it is")[0]) for p in both] == [
        ("has_tag(['go'], 'go')", "start the function with `tag = tag.lower()` and keep the rest"),
    ]


def test_an_argument_the_answer_does_not_name_is_told_by_its_place():
    probes = probes_of("assert count_word('Hello there', 'HELLO') == 1")
    assert [(p.call, p.finding.split(": ")[1]) for p in probes] == [
        ("count_word('hello there', 'HELLO')", "lowercase its first argument before using it."),
        ("count_word('Hello there', 'hello')", "lowercase its second argument before using it."),
        ("count_word('hello there', 'hello')", "lowercase its text arguments before using them."),
    ]


def test_a_dates_first_two_fields_are_swapped_and_keywords_are_probed_too():
    probes = probes_of("assert to_iso('03/04/2026', sep='-') == '2026-04-03'", ["text"])
    assert [p.test for p in probes] == ["assert to_iso('04/03/2026', sep='-') == '2026-04-03'"]
    assert probes[0].finding == (
        "The checks take the first two `/`-separated fields of `text` in the other order: start "
        "the function with `first, second, rest = text.split('/', 2); "
        "text = '/'.join([second, first, rest])` and keep the rest as it is."
    )
    unnamed = probes_of("assert to_iso('03/04/2026') == '2026-04-03'")
    assert unnamed[0].finding.endswith(": swap the roles the answer gives those two fields.")


def test_both_changes_are_probed_where_both_change_the_arguments():
    probes = probes_of("assert parse('Mar.04.2026') == (2026, 3, 4)")
    assert [p.call for p in probes] == ["parse('mar.04.2026')", "parse('04.Mar.2026')"]
    assert "lowercase its text argument before using it" in probes[0].finding


def test_calls_that_no_change_alters_or_that_are_not_literal_are_not_probed():
    assert probes_of("assert add(2, 3) == 5") == []
    assert probes_of("assert median([]) == 0.0") == []
    assert probes_of("assert f(x) == 'A'") == []
    assert probes_of("assert f('A') != 'a'") == []
    assert probes_of("assert obj.f('A') == 'a'") == []
    assert probes_of("assert f(*['A']) == 'a'") == []
    assert probes_of("not python (") == []


def test_the_note_shows_the_changed_call_and_says_what_the_checks_expect():
    (probe,) = probes_of(HAS_TAG)
    assert probe_note(probe) == (
        "Probe: The checks ignore letter case: lowercase its first argument (every text in it) "
        "before using it. (called as `has_tag(['python', 'sql'], 'python')`, the answer would "
        "return the expected `True`)"
    )


def test_the_parameters_are_read_from_the_answers_definition_of_the_called_function():
    code = "def helper(x):\n    return x\n\ndef has_tag(tags, tag, /, *, strict=False):\n    pass"
    assert parameters_of(code, HAS_TAG) == ["tags", "tag"]
    assert parameters_of("def other(a):\n    pass", HAS_TAG) == []
    assert parameters_of("def has_tag(:", HAS_TAG) == []


def test_a_check_on_an_empty_argument_says_what_to_return_for_it():
    assert empty_input_finding("assert median([]) == 0.0", ["xs"]) == (
        "An empty `xs` is valid input: return `0.0` for it first, do not raise."
    )
    assert empty_input_finding("assert count('a', s='') == 0") == (
        "An empty `s` is valid input: return `0` for it first, do not raise."
    )
    assert empty_input_finding("assert f(1, ()) is None").startswith("An empty second argument")


def test_no_empty_input_finding_without_an_empty_literal_argument():
    assert empty_input_finding("assert median([1]) == 1", ["xs"]) == ""
    assert empty_input_finding("assert median(xs) == 0.0") == ""
    assert empty_input_finding("assert median([]) == expected") == ""
