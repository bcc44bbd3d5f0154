"""The findings' logic: the search's candidates and which verified ones are told.

Values here are of their own, not any family's; the verifier is a fake (the real one runs in
``tests/integration/test_findings.py``).
"""

from reflexion_graph.findings import Change, FailedTest, Finding, changed_code, find
from reflexion_graph.findings._search import output_changes

ANSWER = "def size(n):\n    return n\n"


def test_the_search_fits_every_pair_and_reads_constants_off_the_values():
    assert (
        output_changes([(1536, 1.5), (3000, 2.9), (2048, 2.0)])[0][0] == "round(result / 1024, 1)"
    )
    assert output_changes([(7.5, "7.50"), (3.0, "3.00")])[0][0] == "format(result, '.2f')"
    assert output_changes([(True, 1), (False, 0)])[0][0] == "int(result)"
    assert output_changes([("a-b", "a-bZ"), ("c", "cZ")])[0][0] == "result + 'Z'"
    assert output_changes([([2, 1], {"ok": 1, "v": [2, 1]})])[0][0] == "{'ok': 1, 'v': result}"
    assert output_changes([(1, 2), ("x", "y")]) == []


def test_the_fields_of_a_delimited_text_are_reordered_or_joined_anew():
    swapped = [("07:45", "45.07"), ("12:05", "05.12")]
    assert output_changes(swapped)[0][0] == "'.'.join([result.split(':')[i] for i in (1, 0)])"
    joined = [("x/y/z", "x_y_z"), ("a/b", "a_b")]
    assert "'_'.join(result.split('/'))" in [e for e, *_ in output_changes(joined)]
    spaced = output_changes([("a b", "b a"), ("c d", "d c")])
    assert not [e for e, *_ in spaced if "join" in e]  # a space is no field separator


def test_a_replacement_repeated_in_several_places_is_the_edit_not_the_stretch():
    # The texts differ in two places by the same edit: the rule is that edit, not the stretch
    # between the two places (which holds the checks' shared letters).
    pairs = [("ab.QR.ef", "ab__QR__ef"), ("gh.QR.ij", "gh__QR__ij")]
    assert output_changes(pairs)[0][0] == "result.replace('.', '__')"
    assert output_changes([("k-v", "k::v"), ("p-q", "p::q")])[0][0] == "result.replace('-', '::')"
    # two different edits are no one replacement
    assert not [e for e, *_ in output_changes([("a.b-c", "a_b+c")]) if "replace('.'" in e]


def test_a_yes_no_table_needs_both_answers_seen():
    assert output_changes([(False, "off"), (True, "on")])[0][0] == (
        "{True: 'on', False: 'off'}[result]"
    )
    assert not [e for e, *_ in output_changes([(True, "on"), (True, "on")]) if "True:" in e]
    assert output_changes([(True, "on"), (False, "on"), (True, "off")]) == []


def test_one_is_not_true_to_the_search():
    assert not [e for e, *_ in output_changes([(1, True), (0, False)]) if e == "result"]
    assert output_changes([(1, True)])[0][0] == "bool(result)"


def _find(failed, passes=lambda code: True, checks=3):
    return find(ANSWER, failed, passes, checks=checks)


def test_a_constant_read_off_one_pair_is_never_told():
    assert _find([FailedTest("assert size(3) == 4", "3", False)]) is None  # an offset of one
    assert _find([FailedTest("assert size(2) == 200", "2", False)]) is None
    assert _find([FailedTest("assert size(2) == 4", "2", False)]) is None  # * 2 and + 2 fit


def test_a_constant_two_failed_checks_share_is_told_once_verified():
    failed = [FailedTest("assert size(2) == 200", "2", False),
              FailedTest("assert size(3) == 300", "3", False)]  # fmt: skip
    finding = _find(failed)
    assert isinstance(finding, Finding) and finding.change.code == "result * 100"
    assert (finding.source, finding.checks, finding.fixed) == ("search", 3, 2)
    assert Finding.from_record(finding.to_record()) == finding
    assert _find(failed, passes=lambda code: False) is None  # refuted by a check: not told


def test_the_simplest_verified_change_is_told_and_the_others_counted():
    failed = [FailedTest("assert size(2.4) == 2", "2.4", False),
              FailedTest("assert size(3.2) == 3", "3.2", False)]  # fmt: skip
    finding = _find(failed)
    assert finding and finding.change.code == "round(result)" and finding.alternatives >= 1


def test_a_check_without_a_value_or_of_another_function_proposes_nothing():
    assert _find([FailedTest("assert size(2) > 3", "", False)]) is None
    mixed = [FailedTest("assert size(1) == 'a'", "1", False),
             FailedTest("assert other(1) == 'a'", "1", False)]  # fmt: skip
    assert _find(mixed) is None


def test_a_change_is_applied_to_the_function_the_checks_call():
    output = changed_code(ANSWER, Change("output", "size", "result * 100", 2, 1))
    namespace: dict = {}
    exec(output, namespace)  # our own fixture code, not a model's
    assert namespace["size"](3) == 300
    documented = 'def f(text):\n    """Doc."""\n    return text\n'
    first = changed_code(documented, Change("input", "f", "text = text.lower()", 1))
    exec(first, namespace)
    assert namespace["f"]("AB") == "ab" and namespace["f"].__doc__ == "Doc."


def test_a_clamp_read_off_one_element_is_never_told_and_one_plain_operation_is():
    assert _find([FailedTest("assert clip([300, 7]) == [255, 7]", "[300, 7]", False)]) is None
    finding = _find([FailedTest("assert names() == ['a', 'b']", "['b', 'a']", False)])
    assert finding and finding.change.code == "sorted(result)"


def test_a_call_whose_argument_is_no_literal_still_has_a_value_to_fit():
    failed = [FailedTest("assert show(bytes([10, 255])) == '0A FF'", "'0a ff'", False)]
    finding = _find(failed)
    assert finding and finding.change.code == "result.upper()"


def test_a_constant_only_one_pair_needs_is_not_a_rule():
    """``min(result, 2.9)`` fits 1.536 -> 1.5, 3.0 -> 2.9, 2.048 -> 2.0 once rounded; the bound
    changes one value only, so it is that value, not a convention."""
    fitted = [e for e, *_ in output_changes([(1.536, 1.5), (3.0, 2.9), (2.048, 2.0)])]
    assert not [e for e in fitted if "min(" in e or "max(" in e]


def test_a_costly_proposer_is_asked_only_where_the_cheap_ones_told_nothing():
    class Costly:
        costly = True
        asked = 0

        def __call__(self, evidence):
            Costly.asked += 1
            yield Change("output", "size", "result * 10", 3, 1)

    def cheap(evidence):
        yield Change("output", "size", "result * 100", 2, 1)

    failed = [FailedTest("assert size(2) == 200", "2", False),
              FailedTest("assert size(3) == 300", "3", False)]  # fmt: skip
    told = find(ANSWER, failed, lambda code: True, checks=2, proposers={"a": cheap, "m": Costly()})
    assert told and told.source == "a" and Costly.asked == 0
    told = find(ANSWER, failed, lambda code: "* 10\n" in code, checks=2,
                proposers={"a": cheap, "m": Costly()})  # fmt: skip
    assert told and told.source == "m" and Costly.asked == 1


def test_a_failing_proposer_never_fails_the_verdict(caplog):
    def broken(evidence):
        raise TimeoutError("the model timed out")
        yield  # a generator, as proposers are

    failed = [FailedTest("assert size(2) == 200", "2", False),
              FailedTest("assert size(3) == 300", "3", False)]  # fmt: skip
    told = find(ANSWER, failed, lambda code: True, checks=2, proposers={"m": broken})
    assert told is None and "proposer 'm' failed: the model timed out" in caplog.text


def test_a_shift_by_one_verified_on_two_checks_is_told_but_not_kept():
    failed = [FailedTest("assert day(2) == 3", "2", False),
              FailedTest("assert day(5) == 6", "5", False)]  # fmt: skip
    finding = _find(failed)
    assert finding and finding.change.code == "result + 1" and not finding.change.kept
    scaled = _find([FailedTest("assert size(2) == 200", "2", False),
                    FailedTest("assert size(3) == 300", "3", False)])  # fmt: skip
    assert scaled and scaled.change.kept


def test_a_change_both_arguments_need_is_tried_after_each_alone():
    answer = "def in_stock(items, item):\n    return item in items\n"
    checks = ["assert in_stock(['Apple', 'Pear'], 'apple') is True",
              "assert in_stock(['plum'], 'PLUM') is True",
              "assert in_stock(['fig'], 'kiwi') is False"]  # fmt: skip

    def passes_all(code: str) -> bool:
        namespace: dict = {}
        exec(code, namespace)  # our own fixture code, not a model's
        try:
            for check in checks:
                exec(check, namespace)
        except AssertionError:
            return False
        return True

    failed = [FailedTest(checks[0], "False", False), FailedTest(checks[1], "False", False)]
    finding = find(answer, failed, passes_all, checks=3)
    assert finding and finding.change.code == (
        "items = [item.lower() for item in items]; item = item.lower()"
    )
    assert finding.change.cost == 2 and finding.change.kept
    checks[:2] = ["assert in_stock(['Apple'], 'apple') is True",
                  "assert in_stock(['Pear', 'fig'], 'pear') is True"]  # fmt: skip
    failed = [FailedTest(checks[0], "False", False), FailedTest(checks[1], "False", False)]
    alone = find(answer, failed, passes_all, checks=3)  # lowering `items` alone is enough
    assert alone and alone.change.code == "items = [item.lower() for item in items]"
