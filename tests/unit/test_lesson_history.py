"""The pure parts of a lesson's history: its state, what each decision changes, old events."""

import pytest

from reflexion_graph import ConfigurationError
from reflexion_graph.memory._history import event_from_stored, retirements
from reflexion_graph.memory._lessons import decided, state_of


def stored(**fields):
    return {"recalls": 1, "helped": 1, **fields}


@pytest.mark.parametrize(
    ("metadata", "state"),
    [
        (stored(), "active"),
        (stored(review="pending"), "pending"),
        (stored(review="rejected"), "rejected"),
        (stored(review="approved"), "active"),
        (stored(recalls=5, helped=0), "retired"),
        (stored(recalls=5, helped=0, pruned=True), "pruned"),
        (stored(recalls=5, helped=0, judged_from_recalls=4, judged_from_helped=0), "active"),
        (stored(recalls=8, helped=0, judged_from_recalls=4, judged_from_helped=0), "retired"),
    ],
)
def test_the_state_of_a_stored_lesson(metadata, state):
    assert state_of(metadata) == state


def test_restoring_keeps_the_counts_and_judges_retirement_afresh():
    change = decided("l1", stored(recalls=5, helped=0, review="rejected"), "restore")
    assert change is not None
    assert change["judged_from_recalls"] == 5 and change["review"] == "approved"
    assert "recalls" not in change  # the counts stay as they are
    assert state_of({**stored(recalls=5, helped=0), **change}) == "active"


def test_a_decision_that_changes_nothing_says_so_and_a_wrong_one_names_the_lesson():
    assert decided("l1", stored(pruned=True), "prune") is None
    assert decided("l1", stored(review="approved"), "approve") is None
    with pytest.raises(ConfigurationError, match="lesson 'l1' is active: only a retired"):
        decided("l1", stored(), "restore")
    with pytest.raises(
        ConfigurationError, match="one of approve, reject, prune, restore, not 'forget'"
    ):
        decided("l1", stored(), "forget")


def test_a_usage_event_from_before_the_history_reads_by_its_counts():
    old = event_from_stored("e1", {"lesson": "l1", "recalls": 1, "helped": 1})
    assert (old["kind"], old["at"], old["by"]) == ("credited", "", "run")
    assert (
        event_from_stored("e2", {"lesson": "l1", "recalls": 1, "helped": 0})["kind"] == "recalled"
    )
    assert event_from_stored("e3", {"lesson": "l1", "merged": 1})["kind"] == "merged"


def test_a_retirement_seen_twice_has_one_id_until_the_lesson_is_restored():
    tired = stored(recalls=5, helped=0)
    [first], [again] = retirements({"l1": tired}), retirements({"l1": tired})
    assert first["id"] == again["id"]
    later = {**tired, "recalls": 9, "judged_from_recalls": 5, "judged_from_helped": 0}
    assert retirements({"l1": later})[0]["id"] != first["id"]
    assert retirements({"l1": stored()}) == []
