"""Every example runs as documented, on the real embedded model."""

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from langgraph.checkpoint.sqlite import SqliteSaver

from tests.user_path import user_environment

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).parents[2] / "examples"


def run_example(name, *args, timeout=300, env=None):
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_quickstart_lcel_chain_as_the_readme_runs_it():
    """Nothing started and nothing set: the quickstart starts the embedded default itself."""
    done = run_example("quickstart.py", env=user_environment())
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[2] in ("passed", "max_attempts")


def test_parent_graph_embedding(embedded_server):
    done = run_example("parent_graph.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] in ("passed", "max_attempts")
    assert "after attempt" in done.stdout


def test_custom_tool_node_runs_on_the_embedded_model(embedded_server):
    done = run_example("custom_tool_node.py")
    assert done.returncode == 0, done.stderr
    assert "attempt 1 (" in done.stdout
    assert "stop reason: " in done.stdout


def checkpointed_attempts(database, thread_id):
    connection = sqlite3.connect(database, check_same_thread=False)
    try:
        saved = SqliteSaver(connection).get_tuple({"configurable": {"thread_id": thread_id}})
    except sqlite3.OperationalError:  # tables not created yet
        return []
    finally:
        connection.close()
    return [] if saved is None else saved.checkpoint["channel_values"].get("attempts", [])


def test_a_killed_run_resumes_without_redoing_attempt_one(embedded_server, tmp_path):
    database = str(tmp_path / "runs.sqlite")
    first = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "resume_after_crash.py"), database, "t1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    while not checkpointed_attempts(database, "t1"):
        assert first.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "no attempt was checkpointed in time"
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    [before] = checkpointed_attempts(database, "t1")

    done = run_example("resume_after_crash.py", database, "t1")
    assert done.returncode == 0, done.stderr
    assert "resuming after attempt 1" in done.stdout
    assert "finished: 3 attempts, stop reason max_attempts" in done.stdout
    after = checkpointed_attempts(database, "t1")
    assert after[0] == before  # attempt 1 kept as it was, not redone
    assert [a["number"] for a in after] == [1, 2, 3]


def test_create_agent_gains_reflexion_with_one_middleware(tmp_path):
    """The README's middleware example, on the user's path: nothing started, nothing set."""
    done = run_example("agent_middleware.py", str(tmp_path / "memory"), env=user_environment())
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.split()[0] in ("passed", "max_attempts") and "lessons saved" in last
