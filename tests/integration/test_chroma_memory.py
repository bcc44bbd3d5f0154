"""ChromaLessonMemory with real Chroma and the real offline MiniLM embeddings."""

import json
import subprocess
import sys
import textwrap

import pytest

from reflexion_graph import ConfigurationError, make_lesson
from reflexion_graph.errors import MemoryBackendError
from reflexion_graph.memory import ChromaLessonMemory, MiniLMEmbeddings, _embeddings
from reflexion_graph.memory._lessons import is_retired

pytestmark = pytest.mark.integration

REVERSE = "Write a Python function that reverses a string."
REVERSE_PARAPHRASE = "Implement a function returning the given text backwards."
CAPITAL = "What is the capital city of France?"


@pytest.fixture
def memory(tmp_path, embeddings):
    return ChromaLessonMemory(path=tmp_path / "memory", embeddings=embeddings)


def lesson(text, task=REVERSE, helped=True, **fields):
    """A lesson used once, by the retry it was written for, which passed unless ``helped``."""
    return {**make_lesson(text, task=task, **fields), "recalls": 1, "helped": int(helped)}


def test_a_lesson_is_recalled_for_a_paraphrased_task_and_not_an_unrelated_one(memory):
    memory.save([lesson("Use slicing s[::-1]; do not reverse word order.")], scope="global")
    [recalled] = memory.search(REVERSE_PARAPHRASE, k=3, scope="global")
    assert recalled["text"] == "Use slicing s[::-1]; do not reverse word order."
    assert recalled["task"] == REVERSE
    assert recalled["similarity"] > 0.5
    assert memory.search(CAPITAL, k=3, scope="global") == []


def test_scopes_are_isolated(memory):
    memory.save([lesson("tenant A's secret lesson")], scope="tenant-a")
    assert memory.search(REVERSE, k=3, scope="tenant-b") == []
    [own] = memory.search(REVERSE, k=3, scope="tenant-a")
    memory.record_usage([own["id"]], passed=True, scope="tenant-b")  # not b's to credit
    assert memory.search(REVERSE, k=3, scope="tenant-a")[0]["recalls"] == 1


def test_near_duplicates_merge_their_counts_and_keep_the_stored_wording(memory):
    memory.save([lesson("Return the reversed string using slicing s[::-1].")], scope="global")
    memory.save([lesson("Return the reversed string by slicing with s[::-1].")], scope="global")
    memory.save([lesson("Check the empty string case separately.", helped=False)], scope="global")
    stored = {item["text"]: item for item in memory.lessons()}
    assert memory.count() == 2
    assert "Return the reversed string by slicing with s[::-1]." not in stored
    merged = stored["Return the reversed string using slicing s[::-1]."]
    assert (merged["merged"], merged["recalls"], merged["helped"]) == (2, 2, 2)


def test_lessons_learnt_from_the_same_failed_check_merge_whatever_their_wording(memory):
    check = "assert reverse('ab') == 'ba' failed: expected 'ba', got 'ab'"
    memory.save([lesson("When reversing text, slice it.", evidence=check)], scope="global")
    memory.save([lesson("Strings are turned around by indexing.", evidence=check)], scope="global")
    [kept] = memory.lessons()
    assert kept["text"] == "When reversing text, slice it."
    assert kept["merged"] == 2


def test_a_lesson_that_stopped_helping_is_retired_and_kept_for_audit(memory):
    memory.save([lesson("When reversing text, slice it.")], scope="global")  # 1 recall, 1 help
    [found] = memory.search(REVERSE, k=3, scope="global")
    for _ in range(3):
        memory.record_usage([found["id"]], passed=False, scope="global")
    assert memory.search(REVERSE, k=3, scope="global")  # 4 recalls, 1 help: still recalled
    memory.record_usage([found["id"]], passed=False, scope="global")
    assert memory.search(REVERSE, k=3, scope="global") == []
    [audit] = memory.lessons()
    assert (audit["recalls"], audit["helped"]) == (5, 1)
    assert is_retired(audit["recalls"], audit["helped"])


def test_usefulness_updates_and_changes_the_ranking(memory):
    first = lesson("Lesson one about reversing strings.", helped=False)
    second = lesson("Another idea: iterate from the end.", helped=False)
    memory.save([first, second], scope="global")
    for _ in range(2):  # a third failed recall would retire the first lesson
        memory.record_usage([second["id"]], passed=True, scope="global")
        memory.record_usage([first["id"]], passed=False, scope="global")
    ranked = memory.search(REVERSE, k=2, scope="global")
    assert [r["id"] for r in ranked] == [second["id"], first["id"]]
    assert ranked[0]["helped"] == 2 and ranked[1]["recalls"] == 3
    assert ranked[0]["rank"] > ranked[1]["rank"]


def test_the_least_useful_lessons_are_evicted_beyond_the_cap(tmp_path, embeddings):
    memory = ChromaLessonMemory(
        path=tmp_path / "m",
        embeddings=embeddings,
        max_lessons_per_scope=3,
        duplicate_similarity=1.01,
    )
    useful = [lesson(f"useful lesson {i}", task=f"task about topic {i}") for i in range(3)]
    useless = [
        lesson(f"useless lesson {i}", task=f"other task {i}", helped=False) for i in range(2)
    ]
    memory.save(useful + useless, scope="global")
    assert sorted(item["text"] for item in memory.lessons()) == [
        f"useful lesson {i}" for i in range(3)
    ]


def test_wrong_metadata_types_are_rejected_and_nothing_is_stored(memory):
    memory.save([lesson("kept")], scope="global")
    bad = lesson("bad", metadata={"extra": [1, 2]})
    with pytest.raises(
        ConfigurationError, match="metadata 'extra' must be str, int, float or bool"
    ):
        memory.save([lesson("good but in a bad batch"), bad], scope="global")
    assert [item["text"] for item in memory.lessons()] == ["kept"]


def test_a_file_in_place_of_the_folder_is_a_clear_error(tmp_path, embeddings):
    target = tmp_path / "memory"
    target.write_text("not a folder")
    with pytest.raises(MemoryBackendError, match="is not a folder"):
        ChromaLessonMemory(path=target, embeddings=embeddings)
    assert target.read_text() == "not a folder"


def test_a_corrupt_store_is_a_clear_error_and_is_left_untouched(tmp_path, embeddings):
    folder = tmp_path / "memory"
    folder.mkdir()
    database = folder / "chroma.sqlite3"
    database.write_bytes(b"garbage, not sqlite" * 100)
    with pytest.raises(MemoryBackendError, match="memory"):
        memory = ChromaLessonMemory(path=folder, embeddings=embeddings)
        memory.search(REVERSE, k=1, scope="global")
    assert database.read_bytes() == b"garbage, not sqlite" * 100


def test_conflicting_client_choices(tmp_path):
    with pytest.raises(ConfigurationError, match="not path and host"):
        ChromaLessonMemory(path=tmp_path, host="127.0.0.1", embeddings=object())


def test_missing_embedding_files_are_listed(monkeypatch):
    monkeypatch.setattr(_embeddings, "MODEL_PACKAGE", "no-such-package")
    with pytest.raises(ConfigurationError, match=r"model\.onnx \(from no-such-package\)"):
        MiniLMEmbeddings()


def test_an_unreachable_server_is_a_clear_error(free_port, embeddings):
    with pytest.raises(MemoryBackendError, match=f"chroma server at 127.0.0.1:{free_port}"):
        ChromaLessonMemory(host="127.0.0.1", port=free_port, embeddings=embeddings)


def test_lessons_survive_a_process_restart(tmp_path):
    folder = tmp_path / "memory"
    write = textwrap.dedent(f"""
        from reflexion_graph import make_lesson
        from reflexion_graph.memory import ChromaLessonMemory
        memory = ChromaLessonMemory(path={str(folder)!r}, duplicate_similarity=1.01)
        lessons = [make_lesson(f"lesson {{i}}", task=f"task number {{i}}") for i in range(5)]
        memory.save(lessons, scope="global")
    """)
    read = textwrap.dedent(f"""
        import json
        from reflexion_graph.memory import ChromaLessonMemory
        memory = ChromaLessonMemory(path={str(folder)!r})
        print(json.dumps(sorted(item["text"] for item in memory.lessons())))
    """)
    subprocess.run([sys.executable, "-c", write], check=True, timeout=120)
    out = subprocess.run(
        [sys.executable, "-c", read], check=True, timeout=120, capture_output=True, text=True
    )
    assert json.loads(out.stdout) == [f"lesson {i}" for i in range(5)]


def test_two_workers_write_concurrently_to_a_chroma_server(chroma_server):
    host, port = chroma_server
    worker = textwrap.dedent("""
        import sys
        from reflexion_graph import make_lesson
        from reflexion_graph.memory import ChromaLessonMemory
        name = sys.argv[1]
        memory = ChromaLessonMemory(host=sys.argv[2], port=int(sys.argv[3]),
                                        collection_prefix="concurrent", duplicate_similarity=1.01)
        for i in range(15):
            made = make_lesson(f"{name} lesson {i}", task=f"{name} task {i}")
            memory.save([made], scope="global")
    """)
    workers = [
        subprocess.Popen([sys.executable, "-c", worker, name, host, str(port)])
        for name in ("alpha", "beta")
    ]
    assert [w.wait(timeout=180) for w in workers] == [0, 0]
    memory = ChromaLessonMemory(host=host, port=port, collection_prefix="concurrent")
    texts = sorted(item["text"] for item in memory.lessons())
    assert texts == sorted(f"{n} lesson {i}" for n in ("alpha", "beta") for i in range(15))


def test_workers_crediting_the_same_lessons_lose_no_count(chroma_server):
    host, port = chroma_server
    memory = ChromaLessonMemory(
        host=host, port=port, collection_prefix="counted", duplicate_similarity=1.01
    )
    shared = [lesson(f"shared lesson {i}", task=f"shared task {i}") for i in range(3)]
    memory.save(shared, scope="global")
    ids = [lesson["id"] for lesson in shared]
    rounds, workers = 20, 4
    worker = textwrap.dedent("""
        import sys
        from reflexion_graph import make_lesson
        from reflexion_graph.memory import ChromaLessonMemory
        name, host, port, rounds, *ids = sys.argv[1:]
        memory = ChromaLessonMemory(host=host, port=int(port), collection_prefix="counted",
                                        duplicate_similarity=1.01)
        for i in range(int(rounds)):  # a fixed number of rounds: the loop ends by itself
            memory.record_usage(ids, passed=i % 2 == 0, scope="global")
            made = make_lesson(f"{name} lesson {i}", task=f"{name} task {i}")
            memory.save([made], scope="global")
    """)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", worker, f"w{n}", host, str(port), str(rounds), *ids]
        )
        for n in range(workers)
    ]
    assert [p.wait(timeout=300) for p in processes] == [0] * workers
    stored = {lesson["id"]: lesson for lesson in memory.lessons(scope="global")}
    assert len(stored) == 3 + workers * rounds  # 0 lost lessons
    for lesson_id in ids:  # created with recalls 1 / helped 1, then every worker's credits
        assert stored[lesson_id]["recalls"] == 1 + workers * rounds
        assert stored[lesson_id]["helped"] == 1 + workers * rounds // 2


def test_a_runs_searches_embed_its_task_once(embeddings, monkeypatch, tmp_path):
    """Recall searches by step and by similarity, on every attempt: one embedding per task."""
    memory = ChromaLessonMemory(path=tmp_path, embeddings=embeddings)
    text = "Write a function that returns the total price in cents."
    asked = []
    original = embeddings.embed_query
    monkeypatch.setattr(embeddings, "embed_query", lambda t: asked.append(t) or original(t))
    memory.search(text, k=3, scope="shop")
    memory.search_by_step(text, ["price_tool"], k=3, scope="shop")
    memory.search(text, k=3, scope="shop")
    memory.search(text + "!", k=3, scope="shop")
    assert asked == [text, text + "!"]
