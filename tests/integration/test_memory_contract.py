"""The contract every lesson memory keeps: the same cases against ChromaLessonMemory and
StoreLessonMemory (on LangGraph's InMemoryStore), with the real MiniLM embeddings."""

import asyncio

import pytest
from langgraph.store.memory import InMemoryStore

from reflexion_graph import ConfigurationError, make_lesson
from reflexion_graph.memory import ChromaLessonMemory, StoreLessonMemory

pytestmark = pytest.mark.integration

REVERSE = "Write a Python function that reverses a string."
BACKWARDS = "Implement a function returning the given text backwards."
CAPITAL = "What is the capital city of France?"


@pytest.fixture(params=["chroma", "store"])
def memory(request, tmp_path, embeddings):
    if request.param == "chroma":
        return ChromaLessonMemory(path=tmp_path / "memory", embeddings=embeddings)
    store = InMemoryStore(index={"embed": embeddings, "dims": 384, "fields": ["task"]})
    return StoreLessonMemory(store)


def lesson(text, task=REVERSE, **fields):
    return make_lesson(text, task=task, **fields)


def test_a_saved_lesson_is_recalled_by_a_similar_task_only(memory):
    memory.save([lesson("When reversing text, use slicing.")], scope="global")
    [found] = memory.search(BACKWARDS, k=3, scope="global")
    assert found["text"] == "When reversing text, use slicing."
    assert memory.search(CAPITAL, k=3, scope="global") == []


def test_scopes_are_apart_and_k_bounds_the_recall(memory):
    memory.save([lesson(f"When reversing text, rule {n}.") for n in range(4)], scope="team-a")
    assert memory.search(BACKWARDS, k=3, scope="team-b") == []
    assert len(memory.search(BACKWARDS, k=2, scope="team-a")) == 2


def test_a_lesson_comes_back_as_it_was_stored(memory):
    saved = {
        **lesson(
            "When reversing, slice.",
            rule="When reversing, slice.",
            evidence="assert rev('ab') == 'ba'",
            source="contrast",
            metadata={"model": "m1"},
        ),
        "replay": "passed",
        "recalls": 1,
        "helped": 1,
    }
    memory.save([saved], scope="global")
    [found] = memory.search(BACKWARDS, k=1, scope="global")
    assert 0.5 < found["similarity"] <= 1.0 and found["rank"] > 0
    returned = {key: value for key, value in found.items() if key not in ("similarity", "rank")}
    assert returned == {**saved, "scope": "global", "prompt": "", "state": "active"}


def test_a_lesson_stored_before_the_typed_record_reads_the_same(memory):
    """Memories written by 0.x kept every field but the counts under ``m.`` metadata keys."""
    old = {
        "text": "When reversing, slice.",
        "scope": "global",
        "task": REVERSE,
        "attempt": 1,
        "outcome": "passed",
        "created_at": "2026-11-01T00:00:00+00:00",
        "updated_at": "2026-11-01T00:00:00+00:00",
        **{"recalls": 1, "helped": 1, "merged": 1},
        **{"m.kind": "hindsight", "m.rule": "When reversing, slice.", "m.replay": "passed"},
        **{"m.evidence": "rev('ab') gave 'ab'", "m.step": "", "m.model": "m1"},
    }
    if isinstance(memory, ChromaLessonMemory):
        memory.collection_for("global").add(
            ids=["old"],
            embeddings=[memory.embeddings.embed_query(REVERSE)],
            documents=[old.pop("text")],
            metadatas=[old],
        )
    else:
        memory.store.put((*memory.namespace, "global"), "old", old, index=["task"])
    [found] = memory.search(BACKWARDS, k=1, scope="global")
    assert (found["id"], found["text"], found["rule"]) == ("old", *["When reversing, slice."] * 2)
    assert (found["evidence"], found["replay"], found["source"]) == (
        "rev('ab') gave 'ab'",
        "passed",
        "failure",
    )
    assert (found["recalls"], found["helped"], found["scope"]) == (1, 1, "global")
    assert found["metadata"] == {"kind": "hindsight", "model": "m1"}
    assert memory.history(scope="global", lesson_id="old") == []  # stored before the history
    memory.prune(["old"], scope="global", by="ana")
    assert kinds(memory, "old") == [("pruned", "ana")]


def test_a_lesson_blamed_on_a_step_is_found_by_that_step(memory):
    memory.save([lesson("When calling weather, pass the city id.", step="weather")], scope="s")
    [found] = memory.search_by_step(CAPITAL, ["weather"], k=3, scope="s")  # any task
    assert found["step"] == "weather"
    assert memory.search_by_step(CAPITAL, ["stocks"], k=3, scope="s") == []


def test_usage_is_counted_and_unknown_ids_are_ignored(memory):
    saved = lesson("When reversing text, use slicing.")
    memory.save([saved], scope="global")
    memory.record_usage([saved["id"], "no-such-id"], passed=True, scope="global")
    memory.record_usage([saved["id"]], passed=False, scope="global")
    [found] = memory.search(BACKWARDS, k=1, scope="global")
    assert (found["id"], found["recalls"], found["helped"]) == (saved["id"], 2, 1)


def test_save_says_what_it_added_and_a_lesson_saved_again_keeps_its_counts(memory):
    saved = lesson("When reversing text, use slicing.")
    assert memory.save([saved], scope="global") == 1
    memory.record_usage([saved["id"]], passed=True, scope="global")
    assert memory.save([saved], scope="global") == 0  # a replayed step: nothing twice
    [found] = memory.search(BACKWARDS, k=1, scope="global")
    assert (found["recalls"], found["helped"]) == (1, 1)


def test_a_malformed_batch_is_refused_whole(memory):
    good = lesson("When reversing text, use slicing.")
    bad = {**lesson("When in doubt, slice."), "text": "  "}
    with pytest.raises(ConfigurationError, match="'text'"):
        memory.save([good, bad], scope="global")
    with pytest.raises(ConfigurationError, match="'recalls' must be an integer >= 0"):
        memory.save([good, {**lesson("When in doubt, slice."), "recalls": -1}], scope="global")
    assert memory.search(BACKWARDS, k=3, scope="global") == []


def test_the_async_twins_answer_as_the_sync_methods(memory):
    asyncio.run(memory.asave([lesson("When reversing text, use slicing.")], scope="global"))
    found = asyncio.run(memory.asearch(BACKWARDS, k=3, scope="global"))
    assert [r["text"] for r in found] == [
        r["text"] for r in memory.search(BACKWARDS, k=3, scope="global")
    ]


@pytest.fixture(params=["chroma", "store"])
def reviewed(request, tmp_path, embeddings):
    if request.param == "chroma":
        return ChromaLessonMemory(path=tmp_path / "memory", embeddings=embeddings, review=True)
    store = InMemoryStore(index={"embed": embeddings, "dims": 384, "fields": ["task"]})
    return StoreLessonMemory(store, review=True)


def test_a_pending_lesson_is_recalled_only_once_approved_and_a_rejected_one_never(reviewed):
    keep = lesson("When reversing text, use slicing.", evidence="assert rev('ab') == 'ba'")
    drop = lesson("When reversing text, sort the letters.", task=BACKWARDS)
    reviewed.save([keep, drop], scope="global")
    assert reviewed.search(BACKWARDS, k=3, scope="global") == []
    pending = reviewed.pending(scope="global")
    assert {p["id"] for p in pending} == {keep["id"], drop["id"]}
    assert next(p for p in pending if p["id"] == keep["id"])["evidence"] == keep["evidence"]
    reviewed.approve([keep["id"]], scope="global")
    reviewed.reject([drop["id"]], scope="global")
    assert [f["id"] for f in reviewed.search(BACKWARDS, k=3, scope="global")] == [keep["id"]]
    assert reviewed.pending(scope="global") == []
    reviewed.approve([keep["id"]], scope="global")  # again: no change


def test_review_decisions_on_bad_ids_name_them_and_change_nothing(reviewed):
    first, second = lesson("When reversing, slice."), lesson("When reversing, step -1.")
    reviewed.save([first, second], scope="global")
    reviewed.reject([second["id"]], scope="global")
    with pytest.raises(ConfigurationError, match="no lesson 'nope' in scope 'global'"):
        reviewed.approve([first["id"], "nope"], scope="global")
    with pytest.raises(ConfigurationError, match=f"lesson '{second['id']}' is rejected"):
        reviewed.approve([first["id"], second["id"]], scope="global")
    assert [p["id"] for p in reviewed.pending(scope="global")] == [first["id"]]  # unchanged
    assert reviewed.search(BACKWARDS, k=3, scope="global") == []


def test_a_memory_without_review_has_nothing_pending_and_recalls_at_once(memory):
    saved = lesson("When reversing text, use slicing.")
    memory.save([saved], scope="global")
    assert memory.pending(scope="global") == []
    assert [f["id"] for f in memory.search(BACKWARDS, k=3, scope="global")] == [saved["id"]]
    with pytest.raises(ConfigurationError, match="is active, not pending review"):
        memory.approve([saved["id"]], scope="global")


def kinds(memory, lesson_id):
    return [
        (event["kind"], event["by"])
        for event in memory.history(scope="global", lesson_id=lesson_id)
    ]


def test_every_change_to_a_lesson_leaves_exactly_one_event(memory):
    saved = lesson("When reversing text, use slicing.")
    memory.save([saved], scope="global")
    memory.save([saved], scope="global")  # a replayed step: nothing new
    memory.record_usage([saved["id"]], passed=True, scope="global")
    memory.record_usage([saved["id"]], passed=False, scope="global")
    memory.prune([saved["id"]], scope="global", by="ana", reason="too vague")
    memory.prune([saved["id"]], scope="global", by="ana")  # pruned already: no change
    assert memory.search(BACKWARDS, k=3, scope="global") == []
    memory.restore([saved["id"]], scope="global", by="ben")
    assert kinds(memory, saved["id"]) == [
        ("stored", "run"),
        ("credited", "run"),
        ("recalled", "run"),
        ("pruned", "ana"),
        ("restored", "ben"),
    ]
    pruned = memory.history(scope="global", lesson_id=saved["id"])[3]
    assert pruned["reason"] == "too vague" and pruned["at"]
    assert [found["id"] for found in memory.search(BACKWARDS, k=3, scope="global")] == [saved["id"]]


def test_restore_brings_back_a_retired_and_a_pruned_lesson_with_their_counts(memory):
    tired = lesson("When reversing text, use slicing.")
    hidden = lesson("When a text is asked backwards, step by -1.", task=BACKWARDS)
    memory.save([tired, hidden], scope="global")
    for _ in range(4):
        memory.record_usage([tired["id"]], passed=False, scope="global")
    memory.record_usage([hidden["id"]], passed=True, scope="global")
    memory.prune([hidden["id"]], scope="global", by="ana")
    assert memory.search(BACKWARDS, k=3, scope="global") == []
    assert kinds(memory, tired["id"])[-1] == ("retired", "run")
    assert [kind for kind, _ in kinds(memory, tired["id"])].count("retired") == 1

    memory.restore([tired["id"], hidden["id"]], scope="global", by="ben", reason="still true")
    back = {found["id"]: found for found in memory.search(BACKWARDS, k=3, scope="global")}
    assert (back[tired["id"]]["recalls"], back[tired["id"]]["helped"]) == (4, 0)
    assert (back[hidden["id"]]["recalls"], back[hidden["id"]]["helped"]) == (1, 1)
    assert {found["state"] for found in back.values()} == {"active"}
    memory.record_usage([tired["id"]], passed=False, scope="global")  # judged afresh
    assert tired["id"] in {f["id"] for f in memory.search(BACKWARDS, k=3, scope="global")}


def test_bad_history_and_restore_requests_name_what_was_wrong_and_change_nothing(memory):
    saved = lesson("When reversing text, use slicing.")
    memory.save([saved], scope="global")
    with pytest.raises(ConfigurationError, match="no scope 'nowhere'"):
        memory.history(scope="nowhere")
    with pytest.raises(ConfigurationError, match="no lesson 'nope' in scope 'global'"):
        memory.history(scope="global", lesson_id="nope")
    with pytest.raises(ConfigurationError, match="is active: only a retired, rejected or pruned"):
        memory.restore([saved["id"]], scope="global")
    with pytest.raises(ConfigurationError, match="no lesson 'nope' in scope 'global'"):
        memory.prune([saved["id"], "nope"], scope="global")
    assert memory.search(BACKWARDS, k=3, scope="global")[0]["state"] == "active"  # unchanged
    memory.purge([saved["id"]], scope="global", by="ana", reason="wrong rule")
    with pytest.raises(ConfigurationError, match=f"lesson '{saved['id']}' was purged at .*gone"):
        memory.restore([saved["id"]], scope="global")
    assert kinds(memory, saved["id"]) == [("stored", "run"), ("purged", "ana")]


def test_a_rejected_lesson_restored_is_recalled(reviewed):
    saved = lesson("When reversing text, use slicing.")
    reviewed.save([saved], scope="global")
    reviewed.reject([saved["id"]], scope="global", by="ana", reason="unclear")
    assert reviewed.search(BACKWARDS, k=3, scope="global") == []
    reviewed.restore([saved["id"]], scope="global", by="ana")
    assert [f["id"] for f in reviewed.search(BACKWARDS, k=3, scope="global")] == [saved["id"]]
    assert kinds(reviewed, saved["id"]) == [
        ("stored", "run"),
        ("rejected", "ana"),
        ("restored", "ana"),
    ]


def test_a_decision_on_no_lessons_or_the_same_one_twice_is_one_change(memory):
    saved = lesson("When reversing text, use slicing.")
    memory.save([saved], scope="global")
    memory.prune([], scope="global")
    memory.purge([], scope="global")
    memory.prune([saved["id"], saved["id"]], scope="global", by="ana")
    assert kinds(memory, saved["id"]) == [("stored", "run"), ("pruned", "ana")]
