import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.user_path import user_environment

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("reflexion-graph"))  # the installed console script


def test_demo_main_job_end_to_end_on_the_default_model(tmp_path):
    """The README's main job as a newcomer runs it: nothing started, no settings."""
    out_file = tmp_path / "results.json"
    done = subprocess.run(
        [
            CLI,
            "run",
            "--demo",
            "--limit",
            "2",
            "--max-attempts",
            "2",
            "--seed",
            "3",
            "--json",
            str(out_file),
            "--strict",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=user_environment(),
        cwd=tmp_path,
    )
    assert done.returncode in (0, 1), done.stderr
    assert "Summary" in done.stdout and "attempt 1" in done.stdout
    assert "Traceback" not in done.stderr
    assert "model qwen2.5-coder-1.5b-instruct" in done.stdout
    results = json.loads(out_file.read_text())["results"]
    assert [r["id"] for r in results] == ["add", "has_tag"]
    for result in results:
        assert 1 <= result["attempts"] <= 2
        assert result["passed"] == (result["solved_at"] is not None)
        assert result["total_tokens"] > 0
    assert done.returncode == (0 if all(r["passed"] for r in results) else 1)
    assert f"passed {sum(r['passed'] for r in results)}/2" in done.stdout  # the summary agrees


def test_cli_single_task_with_tests(embedded_server):
    done = subprocess.run(
        [
            CLI,
            "run",
            "Write a Python function double(x) that returns 2 * x.",
            "--tests",
            "assert double(4) == 8",
            "--max-attempts",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    assert "double" in done.stdout and "Summary" in done.stdout


def test_bench_compares_all_five_strategies_on_the_real_model(embedded_server, tmp_path):
    results, plot_file, episodes = (
        tmp_path / "bench.json",
        tmp_path / "bench.png",
        tmp_path / "episodes.jsonl",
    )
    command = [CLI, "bench", "--dataset", "countdown", "--difficulty", "2", "--limit", "2"]
    command += ["--attempts", "2", "--results", str(results), "--plot", str(plot_file)]
    command += ["--episodes", str(episodes)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for strategy in ("single", "retry", "refine", "reflexion", "reflexion+memory"):
        assert f"| {strategy} | 2 |" in done.stdout
    assert "exact McNemar p" in done.stdout
    saved = json.loads(results.read_text())
    assert all(
        sorted(records) == ["countdown-0", "countdown-1"] for records in saved["records"].values()
    )
    assert sorted(saved["first_attempts"]) == ["countdown-0", "countdown-1"]
    assert plot_file.read_bytes()[:4] == b"\x89PNG"
    assert len(episodes.read_text().splitlines()) == 8  # every strategy but retry
    again = subprocess.run(command, capture_output=True, text=True, timeout=60)  # all resumed

    def tables(out):
        return [line for line in out.splitlines() if line.startswith("|")]

    assert again.returncode == 0 and tables(again.stdout) == tables(done.stdout)


def test_a_repeatable_bench_records_it_and_runs_on_one_slot(embedded_server, tmp_path):
    results = tmp_path / "bench.json"
    command = [CLI, "bench", "--dataset", "countdown", "--difficulty", "2", "--limit", "1"]
    command += ["--attempts", "2", "--strategies", "single", "retry", "--repeatable"]
    command += ["--results", str(results)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(results.read_text())["config"]["repeatable"] is True
