"""Hostile programs against the real sandbox: each is contained and comes back as a failure."""

import contextlib
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from reflexion_graph.evaluators import CodeTestEvaluator, SandboxLimits, probe_isolation
from reflexion_graph.sandbox import Sandbox, _isolation, default_sandbox

pytestmark = pytest.mark.integration

LIMITS = SandboxLimits(timeout_s=3.0, cpu_s=3, memory_mb=512)


def judge(code, tests="assert True", limits=LIMITS, sandbox=None):
    started = time.monotonic()
    evaluator = CodeTestEvaluator(tests, limits=limits, sandbox=sandbox)
    verdict = evaluator.evaluate("t", f"```python\n{code}\n```")
    return verdict, time.monotonic() - started


def test_this_machine_isolates_fully():
    isolation = probe_isolation()
    assert isolation.missing == [], isolation.missing
    assert isolation.bwrap is not None


def test_infinite_loop_is_killed_in_bounded_time():
    # The CPU-time limit above the timeout, so the timeout is what stops it (equal, they race).
    timeout_first = SandboxLimits(timeout_s=3.0, cpu_s=10, memory_mb=512)
    verdict, seconds = judge("while True:\n    pass", limits=timeout_first)
    assert not verdict["passed"] and "Timed out after 3 s" in verdict["feedback"]
    assert seconds < LIMITS.timeout_s + 2


def test_fork_bomb_is_contained():
    if probe_isolation().user is None:
        pytest.skip("runs as an unprivileged user already; NPROC applies to the caller")
    verdict, seconds = judge(
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    )
    assert not verdict["passed"] and seconds < LIMITS.timeout_s + 2
    deadline = time.monotonic() + 5  # the kernel tears the PID namespace down asynchronously
    while leftover_sandbox_processes():
        assert time.monotonic() < deadline, "sandbox processes outlived the run by 5 s"
        time.sleep(0.1)
    assert subprocess.run(["true"]).returncode == 0  # the host can still start processes


def leftover_sandbox_processes() -> set[int]:
    """Our sandboxes' processes (the sandbox user's, below this one), but for the idle warm
    workers themselves (their bubblewrap and their fork server)."""
    table = process_table()
    ours, frontier = set(), {os.getpid()}
    while frontier:
        pid = frontier.pop()
        children = {child for child, (_, parent, _) in table.items() if parent == pid}
        ours |= children
        frontier |= children
    user = probe_isolation().user
    return {pid for pid in ours if table[pid][2] == user} - worker_processes(table)


def process_table() -> dict[int, tuple[str, int, int]]:
    """Every process: its name, its parent and its real user."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rsplit(")", 1)
            uid = int((entry / "status").read_text().split("Uid:")[1].split()[0])
            table[int(entry.name)] = (fields[0].split("(", 1)[1], int(fields[1].split()[1]), uid)
    return table


def worker_processes(table: dict[int, tuple[str, int, int]]) -> set[int]:
    """Each idle warm worker's bubblewrap processes and its fork server, not what it forked."""
    workers, frontier = set(), set(default_sandbox().warm_worker_pids())
    while frontier:
        pid = frontier.pop()
        workers.add(pid)
        if table.get(pid, ("", 0, 0))[0] == "bwrap":  # the server is bwrap's child: stop there
            frontier |= {child for child, (_, parent, _) in table.items() if parent == pid}
    return workers


def test_memory_bomb_fails_cleanly():
    verdict, _ = judge("blob = bytearray(8 * 1024 ** 3)")
    assert not verdict["passed"] and "MemoryError" in verdict["feedback"]


def test_deleting_files_outside_the_temp_dir_fails(tmp_path):
    canary = tmp_path / "precious"
    canary.mkdir()
    (canary / "data.txt").write_text("keep me")
    os.chmod(tmp_path, 0o755)
    code = f"import shutil\nshutil.rmtree({str(canary)!r})"
    verdict, _ = judge(code)
    assert not verdict["passed"]
    assert (canary / "data.txt").read_text() == "keep me"


def test_the_parents_secrets_are_not_visible(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-123")
    code = (
        "import os, glob\n"
        "def leaked():\n"
        "    found = [k for k in os.environ if 'KEY' in k]\n"
        "    for path in glob.glob('/proc/*/environ'):\n"
        "        try:\n"
        "            if b'sk-test-secret' in open(path, 'rb').read():\n"
        "                found.append(path)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return found\n"
    )
    verdict, _ = judge(code, "assert leaked() == []")
    assert verdict["passed"], verdict["feedback"]


def test_no_network_even_to_loopback():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        code = (
            "import socket\n"
            "def reach():\n"
            "    try:\n"
            f"        socket.create_connection(('127.0.0.1', {port}), timeout=1).close()\n"
            "        return True\n"
            "    except OSError:\n"
            "        return False\n"
        )
        verdict, _ = judge(code, "assert reach() is False")
    assert verdict["passed"], verdict["feedback"]


def test_huge_output_is_capped():
    code = "import os\nwhile True:\n    os.write(1, b'x' * 65536)"
    verdict, seconds = judge(code)
    assert not verdict["passed"] and seconds < LIMITS.timeout_s + 2
    assert len(verdict["feedback"]) < 2000


def test_writes_stay_in_the_private_temp_dir():
    code = (
        "def wrote():\n"
        "    open('scratch.txt', 'w').write('ok')\n"
        "    return open('scratch.txt').read()\n"
    )
    verdict, _ = judge(code, "assert wrote() == 'ok'")
    assert verdict["passed"], verdict["feedback"]


def test_without_bubblewrap_or_util_linux_limits_still_hold_and_gaps_are_logged(
    monkeypatch, caplog
):
    monkeypatch.setattr(_isolation.shutil, "which", lambda name: None)
    sandbox = Sandbox()
    with caplog.at_level("WARNING", logger="reflexion_graph.sandbox"):
        isolation = sandbox.isolation
    assert isolation.bwrap is None and not isolation.launcher
    assert "bubblewrap is not installed" in caplog.text
    verdict, _ = judge("blob = bytearray(8 * 1024 ** 3)", sandbox=sandbox)
    assert "MemoryError" in verdict["feedback"]
    verdict, seconds = judge("while True:\n    pass", sandbox=sandbox)
    assert seconds < LIMITS.timeout_s + 2
    assert "Timed out" in verdict["feedback"] or "CPU-time limit" in verdict["feedback"]


def test_a_sandbox_runs_any_script_with_its_stdin():
    sandbox = Sandbox()
    try:
        with sandbox.python("import sys\nprint(sys.stdin.read().upper())", LIMITS) as run:
            assert run.process.stdin and run.process.stdout
            run.process.stdin.write(b"hi")
            run.process.stdin.close()
            assert (run.process.stdout.read(), run.process.wait()) == (b"HI\n", 0)
    finally:
        sandbox.close()
