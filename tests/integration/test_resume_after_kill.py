"""A run killed at its worst moment resumes from its checkpoint and stores nothing twice.

The worker process is killed (SIGKILL) right after the remember node wrote its lesson to Chroma
and before LangGraph could checkpoint that step. With ``durability="sync"`` (every step is
checkpointed before the next starts) the resumed run replays only that step: the model is not
called again, and the lesson is stored once because saving is idempotent.
"""

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reflexion_graph.memory import ChromaLessonMemory

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

WORKER = textwrap.dedent("""
    import os, signal, sqlite3, sys
    from langgraph.checkpoint.sqlite import SqliteSaver
    from reflexion_graph import ReflexionContext, create_reflexion_agent
    from reflexion_graph.memory import ChromaLessonMemory
    from tests.fakes import ScriptedChatModel

    folder, crash = sys.argv[1], sys.argv[2] == "crash"

    class CrashAfterSave(ChromaLessonMemory):
        def save(self, reflections, *, scope):
            added = super().save(reflections, scope=scope)
            if crash:
                os.kill(os.getpid(), signal.SIGKILL)  # before the step's checkpoint
            return added

    replies = ["wrong", "Mistake: said wrong. Fix: say right.", "right",  # attempts, lesson
               "When asked for the word, say right.", "right"] if crash else []  # rule, replay
    agent = create_reflexion_agent(
        ScriptedChatModel(replies=replies),  # the resumed run has no replies: no model call
        evaluator=lambda task, answer: answer == "right",
        memory=CrashAfterSave(path=f"{folder}/memory"),
        checkpointer=SqliteSaver(sqlite3.connect(f"{folder}/runs.sqlite", check_same_thread=False)),
    )
    config = {"configurable": {"thread_id": "t1"}}
    context = ReflexionContext(max_attempts=3)
    pending = agent.get_state(config)
    if pending.next:
        print("resuming at", list(pending.next), flush=True)
        result = agent.invoke(None, config, context=context, durability="sync")
    else:
        result = agent.invoke(
            {"task": "Say the word."}, config, context=context, durability="sync"
        )
    print("finished", result["stop_reason"], len(result["attempts"]))
""")


def run_worker(folder: Path, mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WORKER, str(folder), mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_a_run_killed_after_storing_its_lesson_resumes_without_storing_it_twice(tmp_path):
    killed = run_worker(tmp_path, "crash")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    memory = ChromaLessonMemory(path=tmp_path / "memory")
    [lesson] = list(memory.lessons())
    assert lesson["text"] == "When asked for the word, say right."

    resumed = run_worker(tmp_path, "resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at ['remember']" in resumed.stdout
    assert "finished passed 2" in resumed.stdout
    again = ChromaLessonMemory(path=tmp_path / "memory")
    stored = list(again.lessons())
    assert [item["id"] for item in stored] == [lesson["id"]]
    assert stored[0]["merged"] == 1 and stored[0]["recalls"] == 1
