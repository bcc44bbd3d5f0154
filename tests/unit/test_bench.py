import itertools
import json
from fractions import Fraction

import pytest
from pydantic import Field

from reflexion_graph import AttemptRequest, ConfigurationError, ReflexionContext, prompts
from reflexion_graph.bench import (
    DEFAULT_STRATEGIES,
    BenchRunner,
    countdown,
    humaneval,
    paired_rows,
    plot_success,
    results_markdown,
    summary_rows,
)
from reflexion_graph.bench._datasets import load_dataset, select_tasks
from reflexion_graph.bench._lanes import UNRECORDED_MEMORY_SETTINGS
from reflexion_graph.bench._report import mcnemar_exact
from reflexion_graph.bench._runner import BenchActor
from tests.fakes import ScriptedChatModel


class CyclingModel(ScriptedChatModel):
    """Answers from a fixed cycle, forever (the bench makes many calls)."""

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.replies.append(self.replies[len(self.prompts) % 2])
        return super()._generate(messages, stop, run_manager, **kwargs)


def solvable(numbers, target):
    ops = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b]
    values = [Fraction(n) for n in numbers]
    for order in itertools.permutations(values):
        results = {order[0]}
        for value in order[1:]:
            results = {op(r, value) for r in results for op in ops}
        if target in results:
            return True
    return False


def test_countdown_tasks_are_seeded_and_solvable():
    first, again = countdown(15, seed=3), countdown(15, seed=3)
    assert [t.prompt for t in first] == [t.prompt for t in again]
    assert [t.prompt for t in first] != [t.prompt for t in countdown(15, seed=4)]
    for task in first:
        checker = task.final
        assert solvable(checker.numbers, checker.target), task.prompt


def test_countdown_operators_shape_the_targets():
    for task in countdown(10, seed=1, numbers=2, operators="+"):
        assert task.final.target == sum(task.final.numbers)
    assert "Work it out step by step" in countdown(1, seed=0)[0].prompt


def test_countdown_settings_are_checked():
    with pytest.raises(ConfigurationError, match="at least 2 numbers, got 1"):
        countdown(1, seed=0, numbers=1)
    with pytest.raises(ConfigurationError, match="got '/'"):
        countdown(1, seed=0, operators="/")
    with pytest.raises(ConfigurationError, match="got ''"):
        load_dataset("countdown", lambda: None, feedback="honest", seed=0, operators="")


def test_humaneval_ships_164_problems_with_hidden_tests_kept_apart():
    honest = humaneval(lambda: ScriptedChatModel(replies=[]), feedback="honest")
    oracle = humaneval(lambda: ScriptedChatModel(replies=[]), feedback="oracle")
    assert len(honest) == 164 and honest[0].id == "HumanEval/0"
    assert type(honest[0].feedback).__name__ == "SelfTestEvaluator"
    assert oracle[0].feedback is oracle[0].final
    solution = (
        "```python\n" + "from typing import List\n\ndef has_close_elements(numbers, t):\n"
        "    return any(abs(a - b) < t for i, a in enumerate(numbers) "
        "for b in numbers[i + 1:])\n```"
    )
    assert honest[0].final.evaluate(honest[0].prompt, solution)["passed"]
    without_import = solution.replace("from typing import List\n\n", "").replace(
        "(numbers, t)", "(numbers: List[float], t: float) -> bool"
    )
    assert "import" not in without_import  # the prompt's imports run first, as in HumanEval
    assert honest[0].final.evaluate(honest[0].prompt, without_import)["passed"]


def test_unknown_dataset_and_feedback_are_named():
    with pytest.raises(ConfigurationError, match="unknown dataset 'mbpp'"):
        load_dataset("mbpp", lambda: None, feedback="honest", seed=0, difficulty=3)
    with pytest.raises(ConfigurationError, match="feedback must be one of"):
        load_dataset("countdown", lambda: None, feedback="vibes", seed=0, difficulty=3)


def make_runner(tmp_path, strategies, model=None, concurrency=1, memory_settings=None, **config):
    tasks = countdown(3, seed=0)
    return BenchRunner(
        model or CyclingModel(replies=["Answer: 1 + 1", "a lesson"]),
        tasks,
        strategies=strategies,
        attempts=2,
        seed=0,
        results=tmp_path / "results.json",
        concurrency=concurrency,
        config={"dataset": "countdown", "feedback": "honest", "model": "fake", **config},
        memory_settings=memory_settings,
    )


async def test_every_strategy_runs_with_its_budget(tmp_path):
    runner = make_runner(tmp_path, DEFAULT_STRATEGIES)
    await runner.run()
    calls = {s: [r["model_calls"] for r in runner.records[s].values()] for s in DEFAULT_STRATEGIES}
    assert calls["single"] == [1, 1, 1]
    assert calls["retry"] == calls["refine"] == [2, 2, 2]  # no reflection calls
    assert calls["reflexion"] == calls["reflexion+memory"] == [3, 3, 3]
    for records in runner.records.values():
        assert all(len(r["success_at"]) == 2 for r in records.values())
    table = results_markdown(runner.records, 2, runner.config)
    assert "| retry | 3 | 0.00 | 0.00 |" in table
    assert "retry vs reflexion | 3 | 0 | 0 | 1.000 | no significant difference |" in table


async def test_every_strategy_starts_from_the_one_shared_first_attempt(tmp_path):
    model = CyclingModel(replies=["Answer: 1 + 1", "a lesson"])
    runner = make_runner(tmp_path, ["single", "retry", "refine", "reflexion"], model)
    await runner.run()
    assert len(runner.first_attempts) == 3
    assert all(r["shared_first_attempt"] for s in runner.records.values() for r in s.values())
    # per task: one shared first attempt, then retry 1, refine 1, reflexion 2 (lesson + attempt)
    assert len(model.prompts) == 3 * (1 + 1 + 1 + 2)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["first_attempts"] == runner.first_attempts


async def test_refine_shows_the_last_attempt_and_reflexion_its_lesson_too(tmp_path):
    model = CyclingModel(replies=["Answer: 1 + 1", "a lesson"])
    runner = make_runner(tmp_path, ["refine"], model)
    runner.tasks = runner.tasks[:1]
    await runner.run()
    retry_prompt = model.prompts[-1]
    assert [type(m).__name__ for m in retry_prompt] == [
        "SystemMessage",
        "HumanMessage",
        "AIMessage",
        "HumanMessage",
    ]
    assert "That answer failed" in retry_prompt[-1].content
    assert "notes" not in retry_prompt[-1].content


async def test_the_actor_gets_the_datasets_instructions(tmp_path):
    model = CyclingModel(replies=["Answer: 1 + 1", "a lesson"])
    await make_runner(tmp_path, ["single"], model).run()
    assert model.prompts[0][0].content == prompts.EQUATION_ACTOR_SYSTEM_PROMPT
    assert humaneval(lambda: model, feedback="oracle")[0].system_prompt == (
        prompts.CODE_ACTOR_SYSTEM_PROMPT
    )


async def test_code_answers_stop_at_their_closing_fence():
    class StopRecorder(CyclingModel):
        stops: list = Field(default_factory=list)

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            self.stops.append(stop)
            return super()._generate(messages, stop, run_manager, **kwargs)

    task = humaneval(lambda: None, feedback="oracle")[0]
    model = StopRecorder(replies=["```python\ndef f(): pass", "x"])
    actor = BenchActor(
        model, 0, first_answer="shared", system_prompt=task.system_prompt, stop=task.stop
    )
    request = AttemptRequest(task=task.prompt)
    assert await actor.aattempt(request) == "shared"
    await actor.aattempt(request.override(number=2))
    assert model.stops == [["\n```\n"]]


def test_the_sync_path_shares_the_first_answer_too():
    task = humaneval(lambda: None, feedback="oracle")[0]
    model = CyclingModel(replies=["sampled"])
    actor = BenchActor(model, 0, first_answer="shared", system_prompt=task.system_prompt)
    request = AttemptRequest(task=task.prompt)
    assert actor.attempt(request) == "shared" and actor.used_shared_first
    assert actor.attempt(request.override(number=2)) == "sampled"


async def test_the_memory_lane_keeps_task_order_while_other_strategies_run(tmp_path):
    runner = make_runner(tmp_path, ["reflexion+memory", "retry"], concurrency=2)
    seen = []
    await runner.run(lambda strategy, record: seen.append((strategy, record["task"])))
    lane = [task for strategy, task in seen if strategy == "reflexion+memory"]
    assert lane == [task.id for task in runner.tasks]
    first_retry = next(i for i, (strategy, _) in enumerate(seen) if strategy == "retry")
    last_memory = max(i for i, (strategy, _) in enumerate(seen) if strategy != "retry")
    assert first_retry < last_memory  # the lanes overlapped


async def test_success_is_judged_by_the_hidden_check_on_the_submitted_answer(tmp_path):
    task = countdown(1, seed=0)[0]
    right = f"Answer: {task.final.numbers[0]} + 0"  # uses a number the task lacks: wrong
    runner = make_runner(tmp_path, ["single"], CyclingModel(replies=[right, "x"]))
    await runner.run()
    assert all(r["success_at"] == [False, False] for r in runner.records["single"].values())


async def test_a_resumed_run_continues_where_it_stopped(tmp_path):
    first = make_runner(tmp_path, ["single"])
    await first.run()
    resumed = make_runner(tmp_path, ["single", "retry"])
    assert resumed.pending() == 3
    seen = []
    await resumed.run(lambda strategy, record: seen.append(strategy))
    assert seen == ["retry"] * 3
    saved = json.loads((tmp_path / "results.json").read_text())
    assert set(saved["records"]) == {"single", "retry"}
    with pytest.raises(ConfigurationError, match="another configuration"):
        make_runner(tmp_path, ["single"], model_id="other")


async def test_the_results_file_records_the_memory_settings_and_holds_a_resume_to_them(tmp_path):
    first = make_runner(tmp_path, ["single"], memory_settings={"recall_k": 1})
    await first.run()
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["config"]["memory"] == {
        "recall_k": 1,
        "lesson_candidates": ReflexionContext().lesson_candidates,
        "verify_by_replay": True,
    }
    resumed = make_runner(tmp_path, ["reflexion+memory"])  # no settings given: the file's
    assert resumed._context("reflexion+memory").recall_k == 1
    with pytest.raises(ConfigurationError, match="another configuration"):
        make_runner(tmp_path, ["single"], memory_settings={"recall_k": 2})
    with pytest.raises(ConfigurationError, match="not memory settings: max_attempts"):
        make_runner(tmp_path / "x", ["single"], memory_settings={"max_attempts": 2})


async def test_a_results_file_from_before_memory_settings_were_recorded_resumes_with_its_own(
    tmp_path,
):
    await make_runner(tmp_path, ["single"]).run()
    results = tmp_path / "results.json"
    saved = json.loads(results.read_text())
    del saved["config"]["memory"]
    results.write_text(json.dumps(saved))
    resumed = make_runner(tmp_path, ["single", "retry"])
    assert resumed.config["memory"] == UNRECORDED_MEMORY_SETTINGS
    assert resumed.pending() == 3
    with pytest.raises(ConfigurationError, match="another configuration"):
        make_runner(tmp_path, ["single"], memory_settings={"recall_k": 5})


def test_paired_comparison_and_plot(tmp_path):
    records = {
        "a": {"t1": {"success_at": [True]}, "t2": {"success_at": [False]}},
        "b": {"t1": {"success_at": [False]}, "t2": {"success_at": [False]}},
    }
    assert paired_rows(records) == [
        {"a": "a", "b": "b", "tasks": 2, "only_a": ["t1"], "only_b": [], "p_value": 1.0}
    ]
    full = {
        name: {
            t: {**r, "input_tokens": 1, "output_tokens": 1, "model_calls": 1, "seconds": 1.0}
            for t, r in by_task.items()
        }
        for name, by_task in records.items()
    }
    assert summary_rows(full, 1)[0]["success_at"] == [0.5]
    plot_success(full, 1, tmp_path / "plot.png", "test")
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"


def test_unknown_strategy():
    with pytest.raises(ConfigurationError, match="unknown strategy 'magic'"):
        BenchRunner(
            ScriptedChatModel(replies=[]),
            [],
            strategies=["magic"],
            attempts=1,
            seed=0,
            results=None,
            config={},
        )


def test_bfcl_tasks_from_the_set_up_data():
    from reflexion_graph.bench._datasets import bfcl

    tasks = bfcl()
    assert len(tasks) == 400 and tasks[0].id == "simple_python_0"
    right = '{"name": "calculate_triangle_area", "arguments": {"base": 10, "height": 5}}'
    assert tasks[0].final.evaluate(tasks[0].prompt, right)["passed"]
    assert not tasks[0].final.evaluate(tasks[0].prompt, right.replace("10", "12"))["passed"]


def test_missing_bfcl_data_says_how_to_get_it(tmp_path):
    from reflexion_graph.bench._datasets import bfcl

    with pytest.raises(ConfigurationError, match=r"fetch_bfcl_data\.py"):
        bfcl(folder=tmp_path)


async def test_self_tests_are_written_before_the_strategies_and_charged_to_none(tmp_path):
    from reflexion_graph.bench import BenchTask
    from reflexion_graph.evaluators import CodeTestEvaluator, SelfTestEvaluator

    writer = ScriptedChatModel(replies=["assert f(1) == 1\nassert f(2) == 2\nassert f(3) == 3"])
    task = BenchTask(
        "t",
        "Write f(x) returning x.",
        SelfTestEvaluator(writer),
        CodeTestEvaluator("assert f(5) == 5"),
    )
    runner = BenchRunner(
        CyclingModel(replies=["def f(x):\n    return x", "lesson"]),
        [task],
        strategies=["single", "retry"],
        attempts=2,
        seed=0,
        results=tmp_path / "r.json",
        config={},
    )
    await runner.run()
    assert len(writer.prompts) == 1
    assert runner.records["single"]["t"]["model_calls"] == 1
    assert runner.records["single"]["t"]["success_at"] == [True, True]


def test_exact_mcnemar_matches_the_binomial_test():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 2**6)  # 0.03125
    assert mcnemar_exact(1, 5) == pytest.approx(2 * (1 + 6) / 2**6)  # 0.21875
    assert mcnemar_exact(5, 1) == mcnemar_exact(1, 5)
    assert mcnemar_exact(3, 3) == 1.0


def test_tasks_are_picked_by_id_and_range():
    tasks = humaneval(lambda: None, feedback="oracle")
    picked = select_tasks(tasks, ["HumanEval/3-5", "HumanEval/100"])
    assert [t.id for t in picked] == ["HumanEval/3", "HumanEval/4", "HumanEval/5", "HumanEval/100"]
    counted = select_tasks(countdown(20, seed=0), ["countdown-2-3"])
    assert [t.id for t in counted] == ["countdown-2", "countdown-3"]
    with pytest.raises(ConfigurationError, match=r"'HumanEval/160-170' names tasks.*HumanEval/164"):
        select_tasks(tasks, ["HumanEval/160-170"])


async def test_each_memory_lane_keeps_its_own_memory_beside_the_results(tmp_path):
    lane = "reflexion+memory:every-failure"
    runner = make_runner(tmp_path, ["reflexion+memory", lane], concurrency=2)
    runner.tasks = runner.tasks[:1]
    await runner.run()
    assert (tmp_path / "results.memory").is_dir()
    assert (tmp_path / "results.every-failure.memory").is_dir()
    assert runner.records["reflexion+memory"]["countdown-0"]["stored"] == []  # never passed
    lessons = runner.records[lane]["countdown-0"]["stored"]
    assert lessons
    resumed = make_runner(tmp_path, [lane])
    await resumed.run()
    recalled = [r["recalled"] for r in resumed.records[lane].values()]
    assert recalled[0] == [] and any(set(lessons) & set(r) for r in recalled[1:])


async def test_a_resumed_run_judges_with_the_self_tests_it_wrote_before(tmp_path):
    from reflexion_graph.bench import BenchTask
    from reflexion_graph.evaluators import CodeTestEvaluator, SelfTestEvaluator

    def runner(writer, strategies):
        task = BenchTask(
            "t",
            "Write f(x) returning x.",
            SelfTestEvaluator(writer),
            CodeTestEvaluator("assert f(5) == 5"),
        )
        return BenchRunner(
            CyclingModel(replies=["def f(x):\n    return x", "lesson"]),
            [task],
            strategies=strategies,
            attempts=1,
            seed=0,
            results=tmp_path / "r.json",
            config={},
        )

    tests = "assert f(1) == 1\nassert f(2) == 2\nassert f(3) == 3"
    first = runner(ScriptedChatModel(replies=[tests]), ["single"])
    await first.run()
    saved = json.loads((tmp_path / "r.json").read_text())["self_tests"]
    assert saved == {"t": ["assert f(1) == 1", "assert f(2) == 2", "assert f(3) == 3"]}
    silent = ScriptedChatModel(replies=[])  # raises if asked to write tests again
    resumed = runner(silent, ["single", "retry"])
    await resumed.run()
    assert silent.prompts == [] and resumed.records["retry"]["t"]["success_at"] == [True]


async def test_retry_context_lanes_share_the_first_attempts_and_old_lanes_are_kept(tmp_path):
    first = make_runner(tmp_path, ["reflexion"])
    await first.run()
    shared = json.loads((tmp_path / "results.json").read_text())["first_attempts"]
    lanes = ["reflexion:reflections", "reflexion:last_attempt", "reflexion+memory:reflections"]
    added = make_runner(tmp_path, lanes)
    contexts = {lane: added._context(lane) for lane in lanes}
    assert contexts["reflexion:reflections"].retry_context == "reflections"
    assert contexts["reflexion:last_attempt"].retry_context == "last_attempt"
    assert contexts["reflexion+memory:reflections"].save_lessons
    await added.run()
    saved = json.loads((tmp_path / "results.json").read_text())
    assert set(saved["records"]) == {"reflexion", *lanes}  # the earlier lane is kept
    assert saved["first_attempts"] == shared  # reused, not resampled
    calls = {lane: [r["model_calls"] for r in saved["records"][lane].values()] for lane in lanes}
    assert calls["reflexion:last_attempt"] == [2, 2, 2]  # no reflector call
    assert calls["reflexion:reflections"] == [3, 3, 3]
    assert (tmp_path / "results.reflections.memory").is_dir()
    with pytest.raises(ConfigurationError, match="unknown strategy 'reflexion:sideways'"):
        make_runner(tmp_path, ["reflexion:sideways"])
