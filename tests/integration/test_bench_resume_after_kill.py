"""A bench run killed mid-way resumes with its memory lane's memory intact."""

import asyncio
import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reflexion_graph import ConfigurationError
from reflexion_graph.bench import BenchRunner, countdown
from reflexion_graph.memory import ChromaLessonMemory
from reflexion_graph.memory._lessons import is_retired
from tests.fakes import ScriptedChatModel

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
LANE = "reflexion+memory:every-failure"
"""A lane that stores lessons of tasks it never solves (the scripted model solves none)."""

WORKER = textwrap.dedent("""
    import asyncio, sys, time
    from pathlib import Path
    from reflexion_graph.bench import BenchRunner, countdown
    from tests.fakes import ScriptedChatModel

    class Slow(ScriptedChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            time.sleep(0.3)
            lesson = "lesson" in str(messages[-1].content)
            self.replies.append("Rule: use every number once." if lesson else "Answer: 1 + 1")
            return super()._generate(messages, stop, run_manager, **kwargs)

    runner = BenchRunner(
        Slow(replies=[]), countdown(6, seed=0), strategies=["reflexion+memory:every-failure"],
        attempts=2,
        seed=0, results=Path(sys.argv[1]), config={"dataset": "countdown"},
    )
    asyncio.run(runner.run())
""")


class Cycling(ScriptedChatModel):
    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        text = str(messages[-1].content)
        self.replies.append("Rule: use every number once." if "lesson" in text else "Answer: 1 + 1")
        return super()._generate(messages, stop, run_manager, **kwargs)


def test_a_killed_bench_resumes_with_the_memory_it_had_learnt(tmp_path):
    results = tmp_path / "results.json"
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(results)], cwd=ROOT)
    deadline = time.monotonic() + 120
    done = 0
    while done < 2:
        assert worker.poll() is None, "the worker ended before it could be killed"
        assert time.monotonic() < deadline, "no record within 120 s"
        time.sleep(0.2)
        try:
            done = len(json.loads(results.read_text())["records"][LANE])
        except (OSError, ValueError, KeyError):
            done = 0
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    learnt = list(ChromaLessonMemory(path=tmp_path / "results.every-failure.memory").lessons())
    stored = len(learnt)
    assert stored >= 1
    # Lessons that never help are retired after a few recalls; the others must be recalled.
    usable = [
        lesson["text"] for lesson in learnt if not is_retired(lesson["recalls"], lesson["helped"])
    ]

    resumed = BenchRunner(
        Cycling(replies=[]),
        countdown(6, seed=0),
        strategies=[LANE],
        attempts=2,
        seed=0,
        results=results,
        config={"dataset": "countdown"},
    )
    before = dict(resumed.records[LANE])
    assert len(before) >= 2 and resumed.pending() == 6 - len(before)
    asyncio.run(resumed.run())
    after = resumed.records[LANE]
    assert len(after) == 6 and all(after[task] == record for task, record in before.items())
    later = [after[task] for task in after if task not in before]
    assert later and bool(later[0]["recalled"]) == bool(usable)  # learnt before the kill
    assert set(later[0]["recalled"]) <= set(usable)
    assert ChromaLessonMemory(path=tmp_path / "results.every-failure.memory").count() >= stored


def test_an_unreadable_results_file_is_named_and_kept(tmp_path):
    results = tmp_path / "results.json"
    results.write_text("{ not json")
    with pytest.raises(ConfigurationError, match=r"cannot resume from .*results\.json"):
        BenchRunner(
            ScriptedChatModel(replies=[]),
            countdown(1, seed=0),
            strategies=["single"],
            attempts=1,
            seed=0,
            results=results,
            config={},
        )
    assert results.read_text() == "{ not json"  # nothing already stored is lost
