import datasets
import pytest

from reflexion_graph import (
    ConfigurationError,
    LLMActor,
    LLMReflector,
    ReflexionContext,
    create_reflexion_agent,
    make_evaluation,
)
from reflexion_graph.episodes import EpisodeLog, read_episodes
from reflexion_graph.training import dpo_rows, grpo_rows, sft_rows, write_jsonl
from tests.fakes import ScriptedChatModel

SCORES = {"bad": 0.0, "meh": 0.5, "good": 1.0}


def judge(task, answer):
    aspects = {"clarity": SCORES[answer], "accuracy": SCORES[answer]}
    return make_evaluation(
        answer == "good", SCORES[answer], feedback=f"was {answer}", aspects=aspects
    )


@pytest.fixture
def log(tmp_path):
    log = EpisodeLog(tmp_path / "episodes.jsonl")
    for task, answers, lessons in [
        ("t1", ["bad", "good"], ["lesson 1"]),
        ("t2", ["bad", "meh", "good"], ["lesson 2a", "lesson 2b"]),
        ("t3", ["good"], []),
        ("t4", ["meh", "bad"], ["lesson 4"]),
    ]:
        graph = create_reflexion_agent(
            evaluator=judge,
            actor=LLMActor(ScriptedChatModel(replies=answers)),
            reflector=LLMReflector(ScriptedChatModel(replies=lessons)),
            episode_log=log,
        )
        graph.invoke({"task": task}, context=ReflexionContext(max_attempts=len(answers)))
    return log


def test_every_run_is_logged_with_reflection_prompts_and_model(log):
    episodes = list(read_episodes(log.path))
    assert [e["task"] for e in episodes] == ["t1", "t2", "t3", "t4"]
    assert episodes[0]["model"] == "ScriptedChatModel"
    assert episodes[1]["reflections"][0]["prompt"].count("was bad") == 1
    assert [r["outcome"] for r in episodes[1]["reflections"]] == ["improved", "passed"]


def test_grpo_rows_reward_only_reflections_whose_retry_passed(log):
    rows = list(grpo_rows(read_episodes(log.path)))
    assert [(r["task"], r["completion"], r["reward"]) for r in rows] == [
        ("t1", "lesson 1", 1.0),
        ("t2", "lesson 2a", 0.0),
        ("t2", "lesson 2b", 1.0),
        ("t4", "lesson 4", 0.0),
    ]
    assert "was bad" in rows[0]["prompt"] and rows[0]["feedback"] == "was bad"


def test_dpo_rows_prefer_the_refined_attempt(log):
    rows = list(dpo_rows(read_episodes(log.path)))
    assert [(r["prompt"], r["chosen"], r["rejected"]) for r in rows] == [
        ("t1", "good", "bad"),
        ("t2", "meh", "bad"),
        ("t2", "good", "bad"),
        ("t2", "good", "meh"),
    ]
    assert len(list(dpo_rows(read_episodes(log.path), per_aspect=True))) == 4


def test_sft_rows_keep_successful_reflections(log):
    assert [r["completion"] for r in sft_rows(read_episodes(log.path))] == ["lesson 1", "lesson 2b"]


@pytest.mark.parametrize(
    "export,columns",
    [
        (grpo_rows, {"prompt", "completion", "reward"}),
        (dpo_rows, {"prompt", "chosen", "rejected"}),
        (sft_rows, {"prompt", "completion"}),
    ],
)
def test_exports_load_in_datasets_as_they_are(log, tmp_path, export, columns):
    path = tmp_path / "export.jsonl"
    count = write_jsonl(export(read_episodes(log.path)), path)
    loaded = datasets.load_dataset("json", data_files=str(path), split="train")
    assert len(loaded) == count > 0
    assert columns <= set(loaded.column_names)


def test_a_malformed_log_line_is_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"task": "t", "attempts": []}\n{oops\n')
    with pytest.raises(ConfigurationError, match=r"bad\.jsonl:2: not valid JSON"):
        list(read_episodes(path))


def test_grpo_training_example_builds_its_dataset_and_reward(log):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[2] / "examples" / "train_grpo_reflections.py"
    spec = importlib.util.spec_from_file_location("train_grpo_reflections", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)

    dataset = example.build_dataset(str(log.path))
    assert dataset.column_names == ["prompt", "task"] and len(dataset) == 4
    retried = []

    def retry(task, reflection):
        retried.append((task, reflection))
        return "capital" in reflection

    reward = example.make_reflection_reward(retry)
    scores = reward(
        prompts=dataset["prompt"][:2],
        completions=["use the capital letter", [{"content": "try harder"}]],
        task=dataset["task"][:2],
    )
    assert scores == [1.0, 0.0]
    assert retried == [("t1", "use the capital letter"), ("t2", "try harder")]
