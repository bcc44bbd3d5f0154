"""`langgraph dev` serving langgraph.json as a user starts it, driven by the real langgraph_sdk.

The first fixture takes a newcomer's path: the README's command, `langgraph.json` as shipped,
no ``REFLEXION_GRAPH_*`` variable and no model server started beforehand, so the served graph
must start the embedded default model itself without blocking LangGraph Server's event loop.
The second serves a model endpoint given by ``REFLEXION_GRAPH_BASE_URL``.
"""

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from langgraph_sdk import get_client

from reflexion_graph import make_lesson
from reflexion_graph.memory._lessons import stored_metadata
from tests.user_path import user_environment

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
LESSONS = ("reflexion", "lessons", "global")
NODES = {"recall", "actor", "evaluate", "reflect", "finalize"}


@contextmanager
def langgraph_dev(workdir: Path, env: dict[str, str]) -> Iterator[str]:
    """The README's ``langgraph dev --no-browser --no-reload`` (on a free port) in ``workdir``.

    langgraph dev keeps its state in ./.langgraph_api and resolves the store's embed path
    against the working directory: it runs from a fresh folder holding the shipped
    langgraph.json and the package, so no earlier run's store leaks in.
    """
    shutil.copyfile(ROOT / "langgraph.json", workdir / "langgraph.json")
    (workdir / "reflexion_graph").symlink_to(ROOT / "reflexion_graph")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log_path = workdir / "langgraph-dev.log"
    command = [str(Path(sys.executable).with_name("langgraph")), "dev", "--no-browser"]
    command += ["--no-reload", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("w") as log:
        server = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url + "/ok", timeout=1):
                break
        except OSError:
            assert server.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "langgraph dev did not start in 120 s"
            time.sleep(0.5)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)
        assert "BlockingError" not in log_path.read_text(), log_path.read_text()[-3000:]


@pytest.fixture(scope="module")
def fresh_studio(tmp_path_factory):
    """Nothing started beforehand: the served graph starts the embedded default model."""
    assert not any(key.startswith("REFLEXION_GRAPH_") for key in user_environment())
    with langgraph_dev(tmp_path_factory.mktemp("studio"), user_environment()) as url:
        yield url


@pytest.fixture(scope="module")
def endpoint_studio(embedded_server, tmp_path_factory):
    """``REFLEXION_GRAPH_BASE_URL`` points the served graph at a running model server."""
    env = {
        **user_environment(),
        "REFLEXION_GRAPH_BASE_URL": embedded_server.base_url,
        "REFLEXION_GRAPH_MODEL": embedded_server.alias,
    }
    with langgraph_dev(tmp_path_factory.mktemp("studio-endpoint"), env) as url:
        yield url


async def seed_lesson(client) -> None:
    """Put a lesson in the server's store as StoreLessonMemory.save writes it.

    It was used once, by a retry that passed (one recall, one help).
    """
    lesson = make_lesson(
        "Seed lesson: answer with the city name only.", task="What is the capital city of France?"
    )
    used_once = {**lesson, "recalls": 1, "helped": 1}
    seed = {"text": lesson["text"], **stored_metadata(used_once, "global")}
    await client.store.put_item(LESSONS, "seed", seed, index=["task"])


async def streamed_run(client) -> tuple[list[str], dict]:
    """Stream one run on a new thread; the nodes it passed through and its final values."""
    thread = await client.threads.create()
    nodes = []
    async for event in client.runs.stream(
        thread["thread_id"],
        "reflexion",
        input={"task": "Name the capital of France."},
        context={"max_attempts": 2},
        stream_mode="updates",
    ):
        assert event.event != "error", event.data
        if event.event == "updates":
            nodes.extend(event.data)
    return nodes, (await client.threads.get_state(thread["thread_id"]))["values"]


async def run_recalling_a_seed_lesson(client) -> dict:
    """Seed a lesson, stream a run that must recall it; the run's final values."""
    await seed_lesson(client)
    nodes, values = await streamed_run(client)
    assert nodes[:3] == ["recall", "actor", "evaluate"]
    assert nodes[-3:] == ["finalize", "hindsight", "remember"]
    assert [lesson["id"] for lesson in values["recalled"]] == ["seed"]
    return values


async def stored_lessons(client) -> dict[str, dict]:
    """The lessons in the server's store, by key."""
    found = await client.store.search_items(LESSONS, limit=50)
    return {item["key"]: item["value"] for item in found["items"]}


async def test_a_fresh_studio_draws_the_graph_without_starting_or_awaiting_the_model(
    fresh_studio,
):
    client = get_client(url=fresh_studio)
    [assistant] = await client.assistants.search(graph_id="reflexion")
    drawing = await client.assistants.get_graph(assistant["assistant_id"])
    assert NODES <= {node["id"] for node in drawing["nodes"]}
    assert {(edge["source"], edge["target"]) for edge in drawing["edges"]} >= {
        ("evaluate", "reflect"),
        ("evaluate", "finalize"),
        ("reflect", "actor"),
    }


async def test_a_fresh_studio_serves_input_output_and_context_schemas(fresh_studio):
    client = get_client(url=fresh_studio)
    [assistant] = await client.assistants.search(graph_id="reflexion")
    schemas = await client.assistants.get_schemas(assistant["assistant_id"])
    task = schemas["input_schema"]["properties"]["task"]
    assert task["description"]
    assert {"best", "attempts", "stop_reason"} <= set(schemas["output_schema"]["properties"])
    context = schemas["context_schema"]["properties"]
    assert context["max_attempts"]["description"] and context["retry_context"]["description"]


async def test_a_fresh_studio_run_on_the_default_model_passes_and_credits_the_store(
    fresh_studio,
):
    client = get_client(url=fresh_studio)
    values = await run_recalling_a_seed_lesson(client)
    assert values["stop_reason"] == "passed", values["attempts"]
    assert "paris" in values["best"]["answer"].lower()
    stored = await stored_lessons(client)
    first_passed = values["attempts"][0]["evaluation"]["passed"]
    assert stored["seed"]["recalls"] == 2 and stored["seed"]["helped"] == 1 + first_passed


async def test_a_studio_on_a_model_endpoint_streams_and_keeps_lessons_in_the_store(
    endpoint_studio,
):
    client = get_client(url=endpoint_studio)
    values = await run_recalling_a_seed_lesson(client)
    assert values["stop_reason"] in ("passed", "max_attempts")
    assert 1 <= len(values["attempts"]) <= 2
    stored = await stored_lessons(client)
    verified = {r["id"] for r in values["learned"] if r["replay"] == "passed"}
    assert set(stored) == {"seed"} | verified
    assert stored["seed"]["recalls"] == 2
    assert stored["seed"]["helped"] == 1 + values["attempts"][0]["evaluation"]["passed"]


async def test_a_fresh_studio_serves_create_agent_with_the_middleware_and_runs_it(fresh_studio):
    client = get_client(url=fresh_studio)
    [assistant] = await client.assistants.search(graph_id="reflexion_agent")
    drawing = await client.assistants.get_graph(assistant["assistant_id"])
    nodes = {node["id"] for node in drawing["nodes"]}
    assert {"model", "ReflexionMiddleware.before_agent", "ReflexionMiddleware.after_agent"} <= nodes
    thread = await client.threads.create()
    events = []
    async for event in client.runs.stream(
        thread["thread_id"],
        "reflexion_agent",
        input={"messages": [{"role": "user", "content": "Name the capital of France."}]},
        stream_mode=["custom", "values"],
    ):
        assert event.event != "error", event.data
        if event.event == "custom":
            events.append(event.data["reflexion"]["type"])
    values = (await client.threads.get_state(thread["thread_id"]))["values"]
    summary = values["reflexion"]
    assert summary["stop_reason"] in ("passed", "max_attempts") and 1 <= summary["attempts"] <= 2
    assert events[0] == "recalled" and events[-1] == "summary"
    assert "paris" in values["messages"][-1]["content"].lower() or not summary["passed"]
