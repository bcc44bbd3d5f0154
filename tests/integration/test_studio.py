"""`langgraph dev` serving langgraph.json, driven by the real langgraph_sdk."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from langgraph_sdk import get_client

from reflexion_graph import make_reflection
from reflexion_graph.memory._lessons import initial_counters, stored_metadata

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
LESSONS = ("reflexion", "lessons", "global")


@pytest.fixture(scope="module")
def studio(embedded_server, tmp_path_factory):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # langgraph dev keeps its state in ./.langgraph_api and resolves the store's embed path
    # against the working directory: run it from a fresh folder that mirrors the repo root.
    workdir = tmp_path_factory.mktemp("studio")
    shutil.copy(ROOT / "langgraph.json", workdir / "langgraph.json")
    (workdir / "reflexion_graph").symlink_to(ROOT / "reflexion_graph")
    log_path = workdir / "langgraph-dev.log"
    env = {**os.environ, "LANGSMITH_TRACING": "false", "LANGGRAPH_CLI_NO_ANALYTICS": "1"}
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("langgraph")),
                "dev",
                "--no-browser",
                "--no-reload",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
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
    yield url
    server.terminate()
    server.wait(timeout=20)


async def test_a_run_in_studio_streams_and_keeps_lessons_in_the_server_store(studio):
    client = get_client(url=studio)
    lesson = make_reflection(
        "Seed lesson: answer with the city name only.",
        task="What is the capital city of France?",
        attempt=1,
    )
    lesson["outcome"] = "passed"
    seed = {
        "text": lesson["text"],
        **stored_metadata(lesson, "global", initial_counters(lesson)),
    }  # what StoreReflectionMemory.save writes
    await client.store.put_item(LESSONS, "seed", seed, index=["task"])
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
    assert nodes[:3] == ["recall", "actor", "evaluate"] and nodes[-1] == "finalize"

    values = (await client.threads.get_state(thread["thread_id"]))["values"]
    assert [lesson["id"] for lesson in values["recalled"]] == ["seed"]
    assert values["stop_reason"] in ("passed", "max_attempts")
    assert 1 <= len(values["attempts"]) <= 2

    stored = {
        item["key"]: item["value"]
        for item in (await client.store.search_items(LESSONS, limit=50))["items"]
    }
    assert set(stored) == {"seed"} | {r["id"] for r in values["reflections"]}
    assert stored["seed"]["recalls"] == 2
    assert stored["seed"]["helped"] == 1 + (values["stop_reason"] == "passed")


async def test_studio_serves_input_output_and_context_schemas_with_descriptions(studio):
    client = get_client(url=studio)
    [assistant] = await client.assistants.search(graph_id="reflexion")
    schemas = await client.assistants.get_schemas(assistant["assistant_id"])
    task = schemas["input_schema"]["properties"]["task"]
    assert task["description"]
    assert {"best", "attempts", "stop_reason"} <= set(schemas["output_schema"]["properties"])
    context = schemas["context_schema"]["properties"]
    assert context["max_attempts"]["description"] and context["retry_context"]["description"]
