import json

import pytest

from reflexion_graph import ConfigurationError
from reflexion_graph.bench import BenchRunner, family_tasks, load_families
from reflexion_graph.bench._datasets import load_dataset
from reflexion_graph.bench._families import family_of, position_of
from reflexion_graph.bench._transfer import (
    lessons_by_family,
    oracle_gain_recovered,
    pooled_transfer,
    recall_precision,
    transfer_markdown,
    transfer_pairs,
    transfer_rows,
    where_transfer_is_lost,
)
from reflexion_graph.evaluators import FunctionCallEvaluator
from tests.fakes import ScriptedChatModel

FAMILIES = load_families()


def test_at_least_24_families_of_4_tasks_mixing_code_and_function_calls():
    assert len(FAMILIES) >= 24
    assert all(len(family.tasks) == 4 for family in FAMILIES)
    calls = [f for f in FAMILIES if isinstance(f.tasks[0].evaluator, FunctionCallEvaluator)]
    assert len(calls) >= 4 and len(FAMILIES) - len(calls) >= 20
    assert {f.split for f in FAMILIES} == {"dev", "report"}
    assert len({task.id for f in FAMILIES for task in f.tasks}) == 4 * len(FAMILIES)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_no_task_text_gives_the_convention_away(family):
    for task in family.tasks:
        assert family.giveaways(task.prompt) == [], task.id


def test_giveaways_are_whole_words_in_any_case():
    family = FAMILIES[0]  # billing-cents: hidden "cent", "cents"
    assert family.giveaways("Return the amount in Cents.") == ["cents"]
    assert family.giveaways("the percentage of recent orders") == []
    assert family.giveaways(family.convention.upper()) == [family.convention, "cents"]


def test_tasks_are_interleaved_and_only_later_tasks_carry_the_oracle_lesson():
    tasks = family_tasks("report")
    names = [f.name for f in FAMILIES if f.split == "report"]
    assert [family_of(t.id) for t in tasks[: len(names)]] == names
    assert [position_of(t.id) for t in tasks] == sorted(position_of(t.id) for t in tasks)
    by_name = {f.name: f for f in FAMILIES}
    for task in tasks:
        expected = "" if position_of(task.id) == 1 else by_name[family_of(task.id)].convention
        assert task.oracle_lesson == expected
    assert len(load_dataset("families", lambda: None, feedback="honest", seed=0)) == 96
    with pytest.raises(ConfigurationError, match="unknown family split 'test'"):
        family_tasks("test")


class PromptRecorder(ScriptedChatModel):
    """Always answers with the same wrong code, then the same lesson; keeps every prompt."""

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        text = "\n".join(str(m.content) for m in messages)
        self.replies.append(
            "Mistake: wrong. Fix: check." if "Write the lesson" in text else "```python\nx = 1\n```"
        )
        return super()._generate(messages, stop, run_manager, **kwargs)


def _runner(tmp_path, model, strategies):
    tasks = [t for t in family_tasks("dev") if family_of(t.id) == "billing-cents"][:2]
    return BenchRunner(
        model,
        tasks,
        strategies=strategies,
        attempts=2,
        seed=0,
        results=tmp_path / "families.json",
        config={"dataset": "families:dev"},
    )


async def test_only_the_oracle_lane_ever_shows_the_convention(tmp_path):
    convention = FAMILIES[0].convention
    model = PromptRecorder(replies=[])
    await _runner(tmp_path, model, ["retry", "reflexion", "reflexion+memory"]).run()
    assert model.prompts and not any(
        convention in model.prompt_text(i) for i in range(len(model.prompts))
    )
    oracle = PromptRecorder(replies=[])
    runner = _runner(tmp_path / "oracle", oracle, ["oracle-lesson"])
    (tmp_path / "oracle").mkdir()
    await runner.run()
    shown = [convention in oracle.prompt_text(i) for i in range(len(oracle.prompts))]
    # task 1: its shared first attempt, a lesson, a retry; task 2: its shared first attempt
    # (sampled for every lane, unused here), then the oracle lane's attempts show the
    # convention and its reflector does not
    assert shown == [False, False, False, False, True, False, True]
    record = runner.records["oracle-lesson"]["billing-cents/2"]
    assert record["recalled"] == [convention] and not record["shared_first_attempt"]
    saved = json.loads((tmp_path / "oracle" / "families.json").read_text())
    assert set(saved["lessons_by_family"]) == set()  # the oracle lane stores nothing


async def test_the_family_lessons_lane_shows_what_the_memory_lane_stored_on_the_family(tmp_path):
    runner = _runner(tmp_path, PromptRecorder(replies=[]), ["family-lessons"])
    with pytest.raises(ConfigurationError, match="needs the 'reflexion\\+memory' records"):
        await runner.run()
    runner = _runner(tmp_path, PromptRecorder(replies=[]), ["reflexion+memory", "family-lessons"])
    runner.records["reflexion+memory"]["billing-cents/1"] = {"stored": ["When money, use cents."]}
    runner.records["reflexion+memory"]["billing-cents/2"] = {"stored": []}
    await runner.run()
    lane = runner.records["family-lessons"]
    assert lane["billing-cents/1"]["recalled"] == []
    assert lane["billing-cents/2"]["recalled"] == ["When money, use cents."]


def test_the_oracle_lane_needs_tasks_with_oracle_lessons(tmp_path):
    from reflexion_graph.bench import countdown

    with pytest.raises(ConfigurationError, match="'oracle-lesson' needs tasks with oracle lessons"):
        BenchRunner(
            ScriptedChatModel(replies=[]),
            countdown(1, seed=0),
            strategies=["oracle-lesson"],
            attempts=1,
            seed=0,
            results=tmp_path / "r.json",
            config={},
        )


def _record(first, last, recalled_from=(), lessons=()):
    return {
        "success_at": [first, last],
        "recalled_from": list(recalled_from),
        "lessons": list(lessons),
    }


def test_transfer_report_pairs_lanes_on_later_tasks_and_measures_the_oracle_gain():
    records = {
        "reflexion": {
            "a/1": _record(False, True),
            "a/2": _record(False, True),
            "b/2": _record(False, False),
            "c/2": _record(True, True),
        },
        "reflexion+memory": {
            "a/1": _record(False, True, lessons=["use cents"]),
            "a/2": _record(True, True, recalled_from=["a/1", "b/1"]),
            "b/2": _record(False, False, recalled_from=["a/1"]),
            "c/2": _record(True, True),
        },
        "oracle-lesson": {
            "a/1": _record(False, True),
            "a/2": _record(True, True),
            "b/2": _record(True, True),
            "c/2": _record(True, True),
        },
    }
    rows = {row["strategy"]: row for row in transfer_rows(records)}
    assert rows["reflexion"]["transfer_at_1"] == pytest.approx(1 / 3)
    assert rows["reflexion+memory"]["transfer_at_1"] == pytest.approx(2 / 3)
    assert rows["oracle-lesson"]["transfer_at_1"] == 1.0
    assert rows["reflexion"]["all_at_budget"] == 0.75
    assert oracle_gain_recovered(records) == pytest.approx(0.5)
    pairs = {(p["a"], p["b"]): p for p in transfer_pairs(records)}
    assert pairs[("reflexion+memory", "reflexion")]["only_a"] == ["a/2"]
    assert pairs[("reflexion+memory", "oracle-lesson")]["only_b"] == ["b/2"]
    assert recall_precision(records) == {
        "recalled": 3,
        "from_own_family": 1,
        "later_tasks": 3,
        "later_tasks_recalling_own_family": 1,
    }
    assert lessons_by_family(records) == {"a": ["use cents"], "b": [], "c": []}
    # a/2 is the one later task whose family stored a lesson before it; it recalled and passed.
    assert where_transfer_is_lost(records) == {
        "later_tasks": 3,
        "written": 1,
        "recalled": 1,
        "helped": 1,
    }
    table = transfer_markdown(records)
    assert "| reflexion+memory | 3 | 0.67 | 0.67 | 0.75 |" in table
    assert "reflexion+memory: fraction of the oracle's gain recovered: 0.50" in table
    assert "of 3 later tasks, 1 had a lesson of their family stored before them" in table


def _costed(record, tokens=100, seconds=10.0):
    return {
        **record,
        "input_tokens": tokens,
        "output_tokens": 0,
        "model_calls": 1,
        "seconds": seconds,
    }


def test_pooled_transfer_sums_seeds_pairs_within_each_seed_and_keeps_lessons_in_their_run():
    seed_1 = {
        "reflexion": {"a/1": _costed(_record(False, True)), "a/2": _costed(_record(False, False))},
        "reflexion+memory": {
            "a/1": _costed(_record(False, True, lessons=["use cents"])),
            "a/2": _costed(_record(True, True, recalled_from=["a/1"]), tokens=300),
        },
        "oracle-lesson": {
            "a/1": _costed(_record(False, True)),
            "a/2": _costed(_record(True, True)),
        },
    }
    # Seed 2 stores nothing on a/1: seed 1's lesson must not count as written for its a/2.
    seed_2 = {
        "reflexion": {"a/1": _costed(_record(False, False)), "a/2": _costed(_record(True, True))},
        "reflexion+memory": {
            "a/1": _costed(_record(False, False)),
            "a/2": _costed(_record(False, False)),
        },
        "oracle-lesson": {
            "a/1": _costed(_record(False, True)),
            "a/2": _costed(_record(True, True)),
        },
    }
    pooled = pooled_transfer([seed_1, seed_2])
    lanes = {row["strategy"]: row for row in pooled["lanes"]}
    assert lanes["reflexion"]["transfer_at_1"] == 0.5
    assert lanes["reflexion+memory"]["transfer_at_1"] == 0.5
    assert lanes["oracle-lesson"]["transfer_at_1"] == 1.0
    assert lanes["reflexion+memory"]["oracle_gain_recovered"] == 0.0
    # 600 tokens over the two tasks solved within budget (seed 1's a/1 and a/2)
    assert lanes["reflexion+memory"]["tokens_per_solved"] == 300.0
    pairs = {(p["a"], p["b"]): p for p in pooled["pairs"]}
    memory_vs_none = pairs[("reflexion+memory", "reflexion")]
    assert (memory_vs_none["runs"], memory_vs_none["tasks"]) == (2, 2)
    assert (memory_vs_none["only_a"], memory_vs_none["only_b"]) == (1, 1)
    assert memory_vs_none["p_value"] == 1.0
    assert pooled["where_lost"]["reflexion+memory"] == {
        "later_tasks": 2,
        "written": 1,
        "recalled": 1,
        "helped": 1,
    }


def test_pooled_transfer_leaves_out_a_lane_that_not_every_seed_ran():
    def run(first_try_passes):
        return {
            lane: {"a/1": _costed(_record(False, True)), "a/2": _costed(_record(passed, True))}
            for lane, passed in first_try_passes.items()
        }

    seed_1 = run({"reflexion": False, "oracle-lesson": True, "retry": True})
    seed_2 = run({"reflexion": True, "oracle-lesson": True})
    pooled = pooled_transfer([seed_1, seed_2])
    assert [row["strategy"] for row in pooled["lanes"]] == ["reflexion", "oracle-lesson"]
    assert {(pair["a"], pair["b"]) for pair in pooled["pairs"]} == {("oracle-lesson", "reflexion")}
    assert [row["strategy"] for row in pooled_transfer([seed_1])["lanes"]] == [
        "reflexion",
        "oracle-lesson",
        "retry",
    ]


def test_pooled_transfer_rates_a_run_in_progress_on_the_tasks_every_lane_ran():
    ahead = {
        "a/1": _costed(_record(False, True, lessons=["use cents"])),
        "a/2": _costed(_record(False, False, recalled_from=["a/1"])),
        "a/3": _costed(_record(True, True, recalled_from=["a/1"])),
    }
    behind = {"a/1": _costed(_record(False, True)), "a/2": _costed(_record(False, True))}
    pooled = pooled_transfer([{"reflexion": behind, "reflexion+memory": ahead}])
    lanes = {row["strategy"]: row for row in pooled["lanes"]}
    assert (
        lanes["reflexion+memory"]["later_tasks"],
        lanes["reflexion+memory"]["transfer_at_1"],
    ) == (1, 0.0)
    assert pooled["pairs"][0]["tasks"] == 1
    assert pooled["where_lost"]["reflexion+memory"]["helped"] == 1


def test_a_families_file_path_gives_every_family_in_it(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        '[[family]]\nname = "volumes"\nsplit = "dev"\ncontext = "Audio (audio.py)."\n'
        'convention = "Volumes are integers from 0 to 11."\n'
        '[[family.task]]\nfunction = "louder(v)"\ntext = "one step louder."\n'
        'reference = "def louder(v):\\n    return min(v + 1, 11)"\n'
        'tests = "assert louder(11) == 11"\n'
        '[[family.task]]\nfunction = "quieter(v)"\ntext = "one step quieter."\n'
        'reference = "def quieter(v):\\n    return max(v - 1, 0)"\n'
        'tests = "assert quieter(0) == 0"\n'
    )
    tasks = load_dataset(f"families:{path}", lambda: None, feedback="honest", seed=0)
    assert [t.id for t in tasks] == ["volumes/1", "volumes/2"]
    assert tasks[1].oracle_lesson == "Volumes are integers from 0 to 11."
    with pytest.raises(ConfigurationError, match="cannot read families file"):
        family_tasks(str(tmp_path / "missing.toml"))
    (tmp_path / "bad.toml").write_text("x = 1\n")
    with pytest.raises(ConfigurationError, match="not a families TOML"):
        family_tasks(str(tmp_path / "bad.toml"))
