"""Shared fixtures: one embedded model server for the whole session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from reflexion_graph import ModelSettings, create_chat_model
from reflexion_graph._embedded import EMBEDDED_MODEL_ALIAS, EmbeddedServer, ensure_server


@pytest.fixture(scope="session")
def embedded_server() -> Iterator[EmbeddedServer]:
    """The real llama.cpp server with SmolLM2, started once; subprocesses reach it by env."""
    server = ensure_server()
    previous = {
        key: os.environ.get(key) for key in ("REFLEXION_GRAPH_BASE_URL", "REFLEXION_GRAPH_MODEL")
    }
    os.environ["REFLEXION_GRAPH_BASE_URL"] = server.base_url
    os.environ["REFLEXION_GRAPH_MODEL"] = EMBEDDED_MODEL_ALIAS
    yield server
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def embedded_model(embedded_server: EmbeddedServer):
    """``ChatOpenAI`` on the embedded server, seeded for repeatable runs."""
    return create_chat_model(
        ModelSettings(
            base_url=embedded_server.base_url, model=EMBEDDED_MODEL_ALIAS, seed=7, max_tokens=256
        )
    )
