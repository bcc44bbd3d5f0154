import json

import pytest

from reflexion_graph import ConfigurationError, InvalidTaskError
from reflexion_graph.evaluators import CodeTestEvaluator, ExactMatchEvaluator, RegexEvaluator
from reflexion_graph.tasks import demo_tasks, load_tasks, task_from_mapping


def write(tmp_path, *specs):
    path = tmp_path / "tasks.jsonl"
    path.write_text("\n".join(s if isinstance(s, str) else json.dumps(s) for s in specs))
    return path


def test_evaluator_kind_is_inferred_from_fields(tmp_path):
    path = write(
        tmp_path,
        {"task": "a", "tests": "assert f() == 1"},
        {"task": "b", "expected": "x"},
        {"id": "c", "task": "c", "pattern": "y"},
    )
    tasks = load_tasks(path)
    assert [type(t.evaluator) for t in tasks] == [
        CodeTestEvaluator,
        ExactMatchEvaluator,
        RegexEvaluator,
    ]
    assert [t.id for t in tasks] == ["line-1", "line-2", "c"]


def test_unknown_evaluator_names_file_line_and_known_kinds(tmp_path):
    path = write(tmp_path, {"task": "a", "expected": "x"}, {"task": "b", "evaluator": "vibes"})
    with pytest.raises(
        ConfigurationError,
        match=r"tasks.jsonl:2: .*unknown evaluator 'vibes'; "
        r"known: \['countdown', 'exact', 'function_call', 'human', 'json_schema', 'judge', "
        r"'regex', 'rubric', 'self_tests', 'tests'\]",
    ):
        load_tasks(path)


@pytest.mark.parametrize(
    "line,message",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"task": "", "expected": "x"}', "non-empty 'task'"),
        ('{"task": "t"}', "names no evaluator"),
        ('{"task": "t", "tests": "   "}', "'tests' must be a non-empty string"),
    ],
)
def test_malformed_task_lines(tmp_path, line, message):
    with pytest.raises(ConfigurationError, match=message):
        load_tasks(write(tmp_path, line))


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot read task file"):
        load_tasks(tmp_path / "nope.jsonl")
    with pytest.raises(InvalidTaskError, match="contains no tasks"):
        load_tasks(write(tmp_path, ""))


def test_demo_set_loads_with_code_and_answer_tasks():
    tasks = demo_tasks()
    kinds = {type(t.evaluator) for t in tasks}
    assert len(tasks) >= 6 and {CodeTestEvaluator, ExactMatchEvaluator} <= kinds
    assert len({t.id for t in tasks}) == len(tasks)


def test_demo_reference_solutions_pass_their_tests():
    solutions = {
        "add": "def add(a, b): return a + b",
        "has_tag": "def has_tag(tags, tag): return tag.lower() in [t.lower() for t in tags]",
        "count_word": "def count_word(text, word):\n"
        "    return text.lower().split().count(word.lower())",
        "median": "import statistics\ndef median(xs): return statistics.median(xs) if xs else 0.0",
        "average": "def average(xs): return sum(xs) / len(xs) if xs else 0.0",
        "log_date_to_iso": "def log_date_to_iso(text):\n"
        "    day, month, year = text.split('/')\n"
        "    return f'{year}-{month}-{day}'",
        "log_date_weekday": "import datetime\n"
        "def log_date_weekday(text):\n"
        "    day, month, year = map(int, text.split('/'))\n"
        "    return datetime.date(year, month, day).strftime('%A')",
        "capital": "Answer: Paris",
    }
    for task in demo_tasks():
        assert task.evaluator.evaluate(task.task, solutions[task.id])["passed"], task.id


def test_task_from_mapping_builds_the_evaluator():
    spec = task_from_mapping({"task": " t ", "expected": "1"}, default_id="x")
    assert (spec.id, spec.task) == ("x", "t")
