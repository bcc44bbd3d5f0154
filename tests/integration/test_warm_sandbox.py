"""The warm sandbox: each run is a fork that can neither see nor leave anything for the next."""

import ast
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from reflexion_graph.evaluators import CodeTestEvaluator, SandboxLimits, probe_isolation
from reflexion_graph.sandbox import Sandbox, _sandbox, _warm

pytestmark = pytest.mark.integration

LIMITS = SandboxLimits(timeout_s=5.0, cpu_s=3, memory_mb=512)

LEAVE_TRACES = """
import ctypes, os, time
open("here.txt", "w").write("secret")
open("/tmp/left.txt", "w").write("secret")
open("/dev/shm/left", "w").write("secret")
os.makedirs("/tmp/locked/inner")
os.chmod("/tmp/locked", 0)
ctypes.CDLL(None).shmget(4242, 4096, 0o1666)  # IPC_CREAT, a SysV segment that outlives us
if os.fork() == 0:  # a detached process, waiting for the next candidate
    os.setsid()
    if os.fork() == 0:
        time.sleep(60)
    os._exit(0)
def left():
    return True
"""

LOOK_FOR_TRACES = """
import os
def traces():
    found = [name for name in os.listdir("/tmp") if not os.getcwd().endswith(name)]
    found += os.listdir("/dev/shm")
    others = {int(p) for p in os.listdir("/proc") if p.isdigit()} - {1, os.getppid(), os.getpid()}
    found += [f"process {pid}" for pid in sorted(others)]
    found += open("/proc/sysvipc/shm").read().splitlines()[1:]
    return found
def worker_is_private():
    for path in (f"/proc/{os.getppid()}/fd", f"/proc/{os.getppid()}/mem"):
        try:
            os.listdir(path) if path.endswith("fd") else open(path, "rb").read(1)
            return path
        except OSError:
            pass
    return "private"
"""


@pytest.fixture(autouse=True)
def sandbox():
    """Each test starts with no warm worker, and closes the ones it started."""
    if probe_isolation().bwrap is None:
        pytest.skip("warm starts need bubblewrap")
    fresh = Sandbox()
    yield fresh
    fresh.close()


@pytest.fixture
def judge(sandbox):
    def judged(code: str, tests: str) -> dict:
        evaluator = CodeTestEvaluator(tests, limits=LIMITS, sandbox=sandbox)
        return evaluator.evaluate("t", f"```python\n{code}\n```")

    return judged


def test_a_run_leaves_nothing_for_the_next_in_the_same_worker(sandbox, judge):
    judge("x = 1", "assert x == 1")  # make sure an idle worker exists
    (worker,) = sandbox.warm_worker_pids()
    assert judge(LEAVE_TRACES, "assert left()")["passed"]
    verdict = judge(
        LOOK_FOR_TRACES, "assert traces() == []\nassert worker_is_private() == 'private'"
    )
    assert verdict["passed"], verdict["feedback"]
    assert sandbox.warm_worker_pids() == [worker]  # the same worker served all three


def test_a_run_that_kills_its_worker_is_still_judged_and_the_next_run_gets_a_new_one(
    sandbox, judge
):
    judge("x = 1", "assert x == 1")
    before = sandbox.warm_worker_pids()
    killer = "import os, signal\ndef f():\n    os.kill(os.getppid(), signal.SIGKILL)\n    return 4"
    verdict = judge(killer, "assert f() == 3")
    assert not verdict["passed"]
    assert sandbox.warm_worker_pids() == []  # the dead worker was not put back
    verdict = judge("def f():\n    return 3", "assert f() == 3")
    assert verdict["passed"], verdict["feedback"]
    assert sandbox.warm_worker_pids() not in ([], before)


def test_a_worker_killed_between_runs_is_replaced_without_failing_the_next_run(sandbox, judge):
    judge("x = 1", "assert x == 1")
    for _ in range(3):
        (worker,) = sandbox.warm_worker_pids()
        os.killpg(worker, signal.SIGKILL)  # no time to notice: the next run may still pick it
        verdict = judge("def f():\n    return 3", "assert f() == 3")
        assert verdict["passed"], verdict["feedback"]
        assert sandbox.warm_worker_pids() != [worker]


def test_concurrent_runs_each_get_a_worker_and_a_correct_verdict(sandbox, judge):
    verdicts: dict[int, dict] = {}

    def run(n: int) -> None:
        code = f"import time\ndef f():\n    time.sleep(0.3)\n    return {n}"
        verdicts[n] = judge(code, f"assert f() == {n}\nassert f() != {n + 1}")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(verdicts[n]["passed"] for n in range(3)), verdicts
    assert len(sandbox.warm_worker_pids()) >= 3


def test_a_worker_that_cannot_start_falls_back_to_cold_starts_with_a_log_line(
    judge, monkeypatch, caplog
):
    monkeypatch.setattr(_sandbox, "server_command", lambda _: ["/nonexistent/python"])
    with caplog.at_level("WARNING", logger="reflexion_graph.sandbox"):
        verdict = judge("def f():\n    return 3", "assert f() == 3")
        failing = judge("def f():\n    return 4", "assert f() == 3")
    assert verdict["passed"] and not failing["passed"]
    assert "no warm worker" in caplog.text


def test_cold_starts_on_request_give_the_same_verdicts(judge, monkeypatch):
    monkeypatch.setenv("REFLEXION_GRAPH_SANDBOX", "cold")
    assert not _warm.warm_enabled()
    assert judge("def f():\n    return 3", "assert f() == 3")["passed"]
    assert not judge("def f():\n    return 4", "assert f() == 3")["passed"]


def test_a_forked_process_starts_workers_of_its_own(sandbox, judge):
    judge("x = 1", "assert x == 1")
    parents = sandbox.warm_worker_pids()
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the child judges while the parent's worker stays the parent's
        verdict = judge("def f():\n    return 3", "assert f() == 3")
        os.write(writer, json.dumps([verdict["passed"], sandbox.warm_worker_pids()]).encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    passed, childs = json.loads(os.read(reader, 1000))
    assert passed and childs and not set(childs) & set(parents)
    assert judge("def f():\n    return 3", "assert f() == 3")["passed"]
    assert sandbox.warm_worker_pids() == parents  # the child left the parent's worker alone


def test_a_killed_owner_leaves_no_trusted_worker_folder_behind(tmp_path):
    """A process killed by a signal cannot remove its worker's folder: the worker does."""
    script = tmp_path / "owner.py"
    script.write_text(
        "import sys, time\n"
        "from reflexion_graph.evaluators import CodeTestEvaluator\n"
        "CodeTestEvaluator('assert f() == 3').evaluate('t', 'def f():\\n    return 3')\n"
        "from reflexion_graph.sandbox import default_sandbox\n"
        "pool = default_sandbox()._pools['tests']\n"
        "print([server._home for server in pool._idle], flush=True)\n"
        "time.sleep(60)\n"
    )
    owner = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    homes = ast.literal_eval(owner.stdout.readline())
    assert homes and all(os.path.isdir(home) for home in homes)
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    deadline = time.monotonic() + 10
    while any(os.path.exists(home) for home in homes) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(os.path.exists(home) for home in homes)
