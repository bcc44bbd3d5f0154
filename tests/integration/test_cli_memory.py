import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reflexion_graph import make_lesson
from reflexion_graph.cli import main
from reflexion_graph.memory import ChromaLessonMemory

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("reflexion-graph"))
UNKNOWABLE = {
    "id": "secret",
    "task": "Write a Python function solve() that returns the secret code string.",
    "tests": "assert solve() == 'code-8f3a-unknowable'",
}
PARAPHRASE = {
    "id": "secret-again",
    "task": "Implement a Python function solve() returning the secret code as a string.",
    "tests": "assert solve() == 'code-8f3a-unknowable'",
}


def run_cli(*args, env_memory):
    return subprocess.run(
        [CLI, "run", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "REFLEXION_GRAPH_MEMORY_DIR": str(env_memory)},
    )


def test_second_run_recalls_the_lessons_of_the_first(embedded_server, tmp_path, memory_dir):
    first_file, second_file = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first_file.write_text(json.dumps(UNKNOWABLE))
    second_file.write_text(json.dumps(PARAPHRASE))

    first = run_cli(
        "--tasks",
        str(first_file),
        "--max-attempts",
        "2",
        "--remember",
        "every_failure",
        env_memory=memory_dir,
    )
    assert first.returncode == 0, first.stderr
    assert "recalled:" not in first.stdout
    stored = list(ChromaLessonMemory(path=memory_dir).lessons())
    assert len(stored) == 1
    assert (stored[0]["source"], stored[0]["recalls"], stored[0]["helped"]) == ("failure", 1, 0)

    second = run_cli("--tasks", str(second_file), "--max-attempts", "1", env_memory=memory_dir)
    assert second.returncode == 0, second.stderr
    shown = " ".join(second.stdout.split())
    assert "recalled:" in shown and " ".join(stored[0]["text"].split())[:30] in shown
    assert "recalled lessons did not help: the first attempt, which saw them, failed" in shown
    later = {lesson["id"]: lesson for lesson in ChromaLessonMemory(path=memory_dir).lessons()}
    after = later.pop(stored[0]["id"])
    assert after["recalls"] == 2 and after["helped"] == 0
    [evidence] = later.values()  # the default policy kept the second run's failed check
    assert evidence["source"] == "evidence" and "code-8f3a-unknowable" in evidence["text"]


def test_a_run_with_review_stores_pending_lessons_recalled_once_approved(
    embedded_server, tmp_path, memory_dir, capsys
):
    first_file, second_file = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first_file.write_text(json.dumps(UNKNOWABLE))
    second_file.write_text(json.dumps(PARAPHRASE))
    args = ("--remember", "every_failure", "--review", "--max-attempts")
    first = run_cli("--tasks", str(first_file), *args, "2", env_memory=memory_dir)
    assert first.returncode == 0, first.stderr
    [pending] = ChromaLessonMemory(path=memory_dir).pending(scope="global")
    unseen = run_cli("--tasks", str(second_file), *args, "1", env_memory=memory_dir)
    assert unseen.returncode == 0, unseen.stderr
    assert "recalled:" not in unseen.stdout  # pending: never recalled
    assert main(["memory", "approve", pending["id"], "--by", "ana"]) == 0
    seen = run_cli("--tasks", str(second_file), *args, "1", env_memory=memory_dir)
    assert "recalled:" in seen.stdout
    kinds = [e["kind"] for e in ChromaLessonMemory(path=memory_dir).history(scope="global")]
    assert kinds.count("approved") == 1 and "recalled" in kinds


def test_no_memory_flag_leaves_the_memory_untouched(embedded_server, tmp_path, memory_dir):
    task_file = tmp_path / "t.jsonl"
    task_file.write_text(json.dumps(UNKNOWABLE))
    done = run_cli(
        "--tasks", str(task_file), "--max-attempts", "2", "--no-memory", env_memory=memory_dir
    )
    assert done.returncode == 0, done.stderr
    assert not memory_dir.exists()


@pytest.fixture
def filled_memory(memory_dir):
    memory = ChromaLessonMemory(path=memory_dir)
    useful = {
        **make_lesson("Slice with s[::-1] to reverse.", task="Reverse a string."),
        **{"recalls": 1, "helped": 1},
    }
    useless = {
        **make_lesson("Print the answer instead of returning it.", task="Compute a factorial."),
        **{"recalls": 1, "helped": 0},
    }
    memory.save([useful, useless], scope="global")
    for _ in range(3):
        memory.record_usage([useless["id"]], passed=False, scope="global")
    return useful, useless


def test_memory_list_search_stats_export_prune(filled_memory, capsys):
    useful, useless = filled_memory
    assert main(["memory", "list"]) == 0
    assert "Slice with s[::-1]" in capsys.readouterr().out

    assert main(["memory", "search", "Write a function that reverses text", "-k", "1"]) == 0
    out = capsys.readouterr().out
    assert "Slice with s[::-1]" in out and "factorial" not in out

    assert main(["memory", "list"]) == 0
    listed = capsys.readouterr().out
    assert "given" in listed and "0.17 retired" in listed  # 4 recalls, no help: (0+1)/(4+2)

    assert main(["memory", "stats"]) == 0
    assert "2 lesson(s)" in capsys.readouterr().out

    assert main(["memory", "export"]) == 0
    exported = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {item["id"] for item in exported} == {useful["id"], useless["id"]}

    assert main(["memory", "prune", "--dry-run"]) == 0
    assert "would have pruned 1 lesson(s)" in capsys.readouterr().out
    assert main(["memory", "prune", "--by", "ana"]) == 0
    assert "pruned 1 lesson(s)" in capsys.readouterr().out
    assert main(["memory", "list"]) == 0
    assert "pruned" in capsys.readouterr().out  # hidden, still listed
    assert main(["memory", "restore", useless["id"][:8], "--reason", "still true"]) == 0
    assert "restored 1 lesson(s)" in capsys.readouterr().out
    assert main(["memory", "history", useless["id"][:8]]) == 0
    out = capsys.readouterr().out
    assert [kind for kind in ("stored", "recalled", "pruned", "restored") if kind in out] == [
        "stored",
        "recalled",
        "pruned",
        "restored",
    ]
    assert "ana" in out and "still true" in out and "7 event(s)" in out
    assert main(["memory", "prune", "--purge", "--min-recalls", "4"]) == 0
    assert "purged 1 lesson(s)" in capsys.readouterr().out
    assert main(["memory", "export"]) == 0
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == [
        useful["id"]
    ]
    assert main(["memory", "restore", useless["id"]]) == 2  # purged: gone, said so
    err = capsys.readouterr().err
    assert f"lesson '{useless['id']}' was purged at" in err and "Traceback" not in err
    assert main(["memory", "history", "--scope", "nowhere"]) == 2
    assert "no scope 'nowhere'" in capsys.readouterr().err


def test_memory_command_with_a_down_server(capsys, free_port):
    assert (
        main(["memory", "list", "--chroma-host", "127.0.0.1", "--chroma-port", str(free_port)]) == 2
    )
    err = capsys.readouterr().err
    assert "cannot reach the chroma server" in err and "Traceback" not in err


def test_memory_review_approve_reject(memory_dir, capsys):
    memory = ChromaLessonMemory(path=memory_dir, review=True)
    keep = make_lesson("Slice with s[::-1] to reverse.", task="Reverse a string.")
    drop = make_lesson("Sort the letters to reverse.", task="Reverse a word.")
    memory.save([keep, drop], scope="global")
    assert main(["memory", "review"]) == 0
    out = capsys.readouterr().out
    assert "2 lesson(s) pending review" in out and "Slice with s[::-1]" in out
    assert main(["memory", "approve", keep["id"][:10]]) == 0
    assert "approved 1 lesson(s)" in capsys.readouterr().out
    assert main(["memory", "reject", drop["id"]]) == 0
    assert main(["memory", "approve", drop["id"]]) == 2  # rejected: one clear line, no change
    err = capsys.readouterr().err
    assert f"lesson '{drop['id']}' is rejected" in err and "Traceback" not in err
    assert main(["memory", "approve", "no-such-id"]) == 2
    assert "no lesson 'no-such-id' in scope 'global'" in capsys.readouterr().err
    found = ChromaLessonMemory(path=memory_dir).search("Reverse a string.", k=3, scope="global")
    assert [lesson["id"] for lesson in found] == [keep["id"]]
