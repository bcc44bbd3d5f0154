"""HTTP transports that start the embedded model server on the first request.

A served graph (``langgraph dev``) is built inside an event loop that must never block, and
drawing it or showing its schemas needs no model at all. A ``ChatOpenAI`` whose HTTP clients
use these transports is built at once; the server starts when the first request needs it, once
per process, in a worker thread on the async path, and every request goes to its port.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import httpx

from reflexion_graph.models._server import EmbeddedServer

PLACEHOLDER_BASE_URL = "http://127.0.0.1/v1"
"""The base URL a lazily started model is built with; requests are sent to the server's port."""


class ServerOnFirstRequest:
    """Starts the server with ``start`` when first needed (again if it died), thread-safe."""

    def __init__(self, start: Callable[[], EmbeddedServer]) -> None:
        self._start = start
        self._server: EmbeddedServer | None = None
        self._lock = threading.Lock()

    def running(self) -> EmbeddedServer | None:
        """The started server while it is alive; never blocks."""
        server = self._server
        return server if server is not None and server.alive() else None

    def server(self) -> EmbeddedServer:
        """The live server, started now if needed (blocks while it starts)."""
        with self._lock:
            server = self.running()
            if server is None:
                server = self._server = self._start()
            return server


def _to_server(request: httpx.Request, server: EmbeddedServer) -> None:
    request.url = request.url.copy_with(port=server.port)
    request.headers["Host"] = f"127.0.0.1:{server.port}"


class StartingTransport(httpx.BaseTransport):
    """The sync transport: starts the server in the calling thread."""

    def __init__(self, launcher: ServerOnFirstRequest) -> None:
        self._launcher = launcher
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` to the server, starting it first if needed."""
        _to_server(request, self._launcher.server())
        return self._inner.handle_request(request)

    def close(self) -> None:
        """Close the pooled connections."""
        self._inner.close()


class AsyncStartingTransport(httpx.AsyncBaseTransport):
    """The async transport: starts the server in a worker thread, off the event loop."""

    def __init__(self, launcher: ServerOnFirstRequest) -> None:
        self._launcher = launcher
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` to the server, starting it first (in a thread) if needed."""
        server = self._launcher.running()
        if server is None:
            server = await asyncio.to_thread(self._launcher.server)
        _to_server(request, server)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._inner.aclose()
