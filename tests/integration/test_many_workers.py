"""Many workers on shared engines: LangGraph's Postgres checkpointer and one Chroma server.

Three worker processes run twelve tasks (a scripted model: what is tested is the coordination).
One worker is killed with SIGKILL right after it stored a lesson and before that step was
checkpointed; a fourth worker picks up its unfinished tasks, resumes the killed run from its
Postgres checkpoint without calling the model again, and stores nothing twice.
"""

import json
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
    import json, os, signal, sys
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, ChatResult
    from langgraph.checkpoint.postgres import PostgresSaver
    from reflexion_graph import ReflexionContext, create_reflexion_agent
    from reflexion_graph.memory import ChromaLessonMemory

    conn, host, port, crash_on = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    tasks = sys.argv[5:]
    calls = {"n": 0}

    class Scripted(BaseChatModel):
        @property
        def _llm_type(self):
            return "scripted"

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            calls["n"] += 1
            text = "\\n".join(str(m.content) for m in messages)
            if "Passing attempt:" in text:  # the hindsight rule, once the run passed
                task = text.split("Task ")[1].split(":")[0]
                reply = f"When task {task} asks for the word, say right."
            elif "Write the lesson" in text:
                task = text.split("Task ")[1].split(":")[0]
                reply = f"Mistake: said wrong. Rule: task {task} wants right. Fix: say right."
            else:
                task = text.split("Task ")[1].split(":")[0]
                # right on a retry, or on the replay of this task's own rule; a rule recalled
                # from another task does not help, so every run fails first and has a lesson
                replay = f"When task {task} asks" in text
                reply = "right" if "That answer failed" in text or replay else "wrong"
            return ChatResult(generations=[ChatGeneration(message=AIMessage(reply))])

    class Memory(ChromaLessonMemory):
        def save(self, reflections, *, scope):
            added = super().save(reflections, scope=scope)
            if any(r["task"].startswith(f"Task {crash_on}:") for r in reflections):
                os.kill(os.getpid(), signal.SIGKILL)  # stored, not yet checkpointed
            return added

    memory = Memory(host=host, port=port, collection_prefix="workers", duplicate_similarity=1.01)
    with PostgresSaver.from_conn_string(conn) as saver:
        agent = create_reflexion_agent(
            Scripted(), evaluator=lambda task, answer: answer == "right",
            memory=memory, checkpointer=saver,
        )
        for task in tasks:
            config = {"configurable": {"thread_id": task}}
            state = agent.get_state(config)
            before = calls["n"]
            if state.values and not state.next:
                continue  # finished by another worker
            run = None if state.next else {"task": f"Task {task}: say the word."}
            result = agent.invoke(run, config, context=ReflexionContext(max_attempts=3),
                                  durability="sync")
            print(json.dumps({"task": task, "resumed": bool(state.next),
                              "model_calls": calls["n"] - before,
                              "stop_reason": result["stop_reason"]}), flush=True)
""")


def start(conn, host, port, crash_on, tasks):
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, conn, host, str(port), crash_on, *tasks],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process):
    out, err = process.communicate(timeout=600)
    return process.returncode, [json.loads(line) for line in out.splitlines()], err


def test_workers_share_postgres_and_chroma_and_a_killed_run_resumes_elsewhere(
    postgres_server, chroma_server
):
    from langgraph.checkpoint.postgres import PostgresSaver

    with PostgresSaver.from_conn_string(postgres_server) as saver:
        saver.setup()
    host, port = chroma_server
    batches = [[f"w{w}-t{n}" for n in range(4)] for w in range(3)]
    workers = [
        start(postgres_server, host, port, "w0-t1" if w == 0 else "-", batch)
        for w, batch in enumerate(batches)
    ]
    (killed, killed_runs, killed_err), *others = [finished(worker) for worker in workers]
    assert killed == -signal.SIGKILL, killed_err[-2000:]
    assert [run["task"] for run in killed_runs] == ["w0-t0"]
    for code, runs, err in others:
        assert code == 0, err[-2000:]
        assert [run["stop_reason"] for run in runs] == ["passed"] * 4

    code, rescued, err = finished(start(postgres_server, host, port, "-", batches[0]))
    assert code == 0, err[-2000:]
    assert [(run["task"], run["resumed"]) for run in rescued] == [
        ("w0-t1", True),
        ("w0-t2", False),
        ("w0-t3", False),
    ]
    assert rescued[0]["model_calls"] == 0  # only the interrupted remember step ran again
    assert all(run["stop_reason"] == "passed" for run in rescued)

    memory = ChromaLessonMemory(host=host, port=port, collection_prefix="workers")
    lessons = list(memory.lessons())
    tasks = sorted(lesson["task"].split(":")[0].removeprefix("Task ") for lesson in lessons)
    assert tasks == sorted(task for batch in batches for task in batch)  # one lesson per run
    assert all(lesson["merged"] == 1 for lesson in lessons)  # none stored twice
