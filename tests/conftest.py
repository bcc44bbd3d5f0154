"""Shared fixtures: one embedded model server for the whole session, shared services."""

from __future__ import annotations

import gc
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromadb.api.shared_system_client import SharedSystemClient

from reflexion_graph import ModelSettings, create_chat_model
from reflexion_graph.memory import MiniLMEmbeddings
from reflexion_graph.models import EmbeddedServer, start_embedded_server

SMALL_MODEL = "smollm2-135m"
"""Plumbing tests run on the fast model; what needs a capable model uses the default."""


@pytest.fixture(autouse=True)
def _release_chroma_clients() -> Iterator[None]:
    """Let the Chroma clients a test opened close once it ends.

    Chroma caches every client's system for the life of the process, each holding its folder's
    files open; a suite of hundreds of Chroma tests would run out of file descriptors.
    """
    yield
    SharedSystemClient.clear_system_cache()
    gc.collect()


@pytest.fixture(scope="session")
def embeddings() -> MiniLMEmbeddings:
    """The real offline MiniLM embeddings, loaded once."""
    return MiniLMEmbeddings()


@pytest.fixture(scope="session")
def embedded_server() -> Iterator[EmbeddedServer]:
    """The real llama.cpp server with SmolLM2, started once; subprocesses reach it by env."""
    server = start_embedded_server(ModelSettings(embedded_model=SMALL_MODEL))
    previous = {
        key: os.environ.get(key) for key in ("REFLEXION_GRAPH_BASE_URL", "REFLEXION_GRAPH_MODEL")
    }
    os.environ["REFLEXION_GRAPH_BASE_URL"] = server.base_url
    os.environ["REFLEXION_GRAPH_MODEL"] = server.alias
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
            base_url=embedded_server.base_url, model=embedded_server.alias, seed=7, max_tokens=256
        )
    )


@pytest.fixture(scope="session")
def default_server() -> EmbeddedServer:
    """The real llama.cpp server with the default model (Qwen2.5-Coder-1.5B), started once."""
    return start_embedded_server(ModelSettings())


@pytest.fixture
def default_model(default_server: EmbeddedServer):
    """``ChatOpenAI`` on the default model, seeded for repeatable runs."""
    return create_chat_model(
        ModelSettings(
            base_url=default_server.base_url, model=default_server.alias, seed=7, max_tokens=384
        )
    )


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real ``chroma run`` server on a free loopback port with a temp data folder."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    chroma = Path(sys.executable).with_name("chroma")
    folder = tmp_path_factory.mktemp("chroma-server")
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(folder / "data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1):
                break
        except OSError:
            if process.poll() is not None:
                raise RuntimeError((folder / "server.log").read_text()) from None
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("chroma server did not start in 60 s")
    yield "127.0.0.1", port
    process.terminate()
    process.wait(timeout=10)
    log.close()


def _account(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server binaries (Debian keeps them off PATH)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL on a free loopback port, run as an unprivileged user.

    The user is Debian's ``postgres`` where it exists, else ``nobody`` (the code sandbox's
    user: its process limit would count the server's processes, so the server stops after the
    module). Yields a connection string; the server and its data folder go away after.
    """
    binaries = _postgres_bin()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (scripts/install-postgresql.sh installs it)")
    # Not under pytest's tmp folder: that one is private to root, and the server runs as nobody.
    folder = Path(tempfile.mkdtemp(prefix="reflexion-postgres-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        account = _account("postgres") or _account("nobody")
        assert account is not None, "no unprivileged account to run PostgreSQL as"
        user, group = account.pw_uid, account.pw_gid
        as_user = ["setpriv", f"--reuid={user}", f"--regid={group}", "--clear-groups", "--"]
        for path in (folder, sockets):
            os.chown(path, user, group)
    subprocess.run(
        [*as_user, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"],
        check=True,
        capture_output=True,
        cwd=folder,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    log = folder / "server.log"
    with log.open("w") as output:
        options = ["-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", str(sockets)]
        server = subprocess.Popen(
            [*as_user, str(binaries / "postgres"), *options, "-c", "fsync=off"],
            cwd=folder,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while True:
        ready = subprocess.run(
            [str(binaries / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
            capture_output=True,
        )
        if ready.returncode == 0:
            break
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"postgres did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    server.terminate()
    server.wait(timeout=30)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def memory_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own memory folder (the CLI would otherwise use ./.reflexion_graph)."""
    folder = tmp_path / "memory"
    monkeypatch.setenv("REFLEXION_GRAPH_MEMORY_DIR", str(folder))
    return folder
