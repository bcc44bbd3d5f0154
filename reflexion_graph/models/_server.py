"""The embedded default model: llama.cpp's server in a child process on 127.0.0.1."""

from __future__ import annotations

import atexit
import json
import logging
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from reflexion_graph.errors import ModelUnavailableError

logger = logging.getLogger(__name__)

_START_TIMEOUT_S = 120.0
_SERVER_SCRIPT = Path(__file__).with_name("_llama_server.py")  # run by path: no package imports


@dataclass
class EmbeddedServer:
    """A running llama.cpp server child process."""

    gguf_path: Path
    alias: str
    """The model name the server answers to."""
    parallel: int
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (``.../v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def alive(self) -> bool:
        """Whether the child process is still running."""
        return self.process.poll() is None

    def stop(self) -> None:
        """Close the child's stdin (it exits on EOF), then make sure it is gone."""
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log_path.unlink(missing_ok=True)


_servers: dict[tuple[Path, int], EmbeddedServer] = {}
_lock = threading.Lock()


def ensure_server(
    gguf_path: Path, *, alias: str, parallel: int = 1, context_size: int = 4096
) -> EmbeddedServer:
    """Return a live server for ``gguf_path``, starting one if needed (reused while alive)."""
    path = gguf_path.resolve()
    if not path.is_file():
        raise ModelUnavailableError(f"GGUF model file {str(path)!r} does not exist")
    with _lock:
        server = _servers.get((path, parallel))
        if server is None or not server.alive():
            server = _start(path, alias, parallel, context_size)
            _servers[(path, parallel)] = server
        return server


def _start(path: Path, alias: str, parallel: int, context_size: int) -> EmbeddedServer:
    port = _free_port()
    log = tempfile.NamedTemporaryFile(prefix="reflexion-llama-", suffix=".log", delete=False)
    command = [
        sys.executable,
        str(_SERVER_SCRIPT),
        "--model",
        str(path),
        "--port",
        str(port),
        "--parallel",
        str(parallel),
        "--ctx-size",
        str(context_size),
        "--alias",
        alias,
    ]
    logger.info("starting embedded model server on 127.0.0.1:%d (%s)", port, path.name)
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=log, stderr=log, start_new_session=True
    )
    server = EmbeddedServer(path, alias, parallel, port, process, Path(log.name))
    atexit.register(server.stop)
    _wait_healthy(server)
    return server


def _wait_healthy(server: EmbeddedServer) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    url = f"http://127.0.0.1:{server.port}/health"
    while time.monotonic() < deadline:
        if not server.alive():
            raise ModelUnavailableError(
                f"the embedded model server exited with code {server.process.returncode}: "
                f"{_log_tail(server.log_path)}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if json.load(response).get("status") == "ok":
                    return
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    tail = _log_tail(server.log_path)
    server.stop()
    raise ModelUnavailableError(
        f"the embedded model server did not become healthy in {_START_TIMEOUT_S:g} s: {tail}"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _log_tail(path: Path, lines: int = 3) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""
