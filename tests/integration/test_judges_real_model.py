"""Judges and task-file evaluator kinds on the real embedded model."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reflexion_graph.evaluators import LLMJudge, RubricJudge

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("reflexion-graph"))


def test_llm_judge_on_the_embedded_model(embedded_model):
    verdict = LLMJudge(embedded_model).evaluate("What is 2 + 2?", "Answer: 4")
    assert verdict["source"] == "judge"
    assert 0.0 <= verdict["score"] <= 1.0
    assert not verdict["feedback"].startswith("unparseable"), verdict["feedback"]


def test_rubric_judge_on_the_embedded_model(embedded_model):
    judge = RubricJudge(embedded_model, aspects=["factuality", "completeness"])
    verdict = judge.evaluate("Name the capital of France.", "Paris is the capital of France.")
    assert set(verdict["aspects"]) == {"factuality", "completeness"}, verdict["feedback"]
    assert all(0.0 <= score <= 1.0 for score in verdict["aspects"].values())


def test_every_checker_kind_runs_from_a_task_file(embedded_server, tmp_path):
    tasks = [
        {
            "id": "countdown",
            "task": "Use the numbers 3, 5 and 7 once each with + - * / to "
            "make 22. End with 'Answer: <equation>'.",
            "numbers": [3, 5, 7],
            "target": 22,
        },
        {
            "id": "call",
            "task": "Call the tool get_weather for the city Paris. Reply with JSON "
            '{"name": ..., "arguments": {...}} only.',
            "function": "get_weather",
            "arguments": {"city": ["Paris", "paris"]},
        },
        {
            "id": "json",
            "task": "Reply with a JSON object with a string field 'name' and an "
            "integer field 'age' describing a person.",
            "schema": {
                "type": "object",
                "required": ["name", "age"],
                "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
            },
        },
        {
            "id": "judged",
            "task": "Explain in one sentence why the sky is blue.",
            "evaluator": "rubric",
            "aspects": ["factuality", "readability"],
        },
    ]
    task_file, out_file = tmp_path / "tasks.jsonl", tmp_path / "out.json"
    task_file.write_text("\n".join(json.dumps(t) for t in tasks))
    done = subprocess.run(
        [
            CLI,
            "run",
            "--tasks",
            str(task_file),
            "--max-attempts",
            "1",
            "--no-memory",
            "--json",
            str(out_file),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(out_file.read_text())["results"]
    assert [r["id"] for r in results] == ["countdown", "call", "json", "judged"]
    assert all(r["attempts"] == 1 for r in results)
