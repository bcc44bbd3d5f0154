"""Nearest-neighbour queries on a Chroma collection that ride out a server's transient race.

A ``chroma run`` server (1.5.x) can answer a query with ``InternalError: Error creating hnsw
segment reader: Nothing found on disk`` while another client's first write to the collection
is being persisted (chroma-core/chroma#4212). Seen here with three workers sharing one server;
the same query succeeds a moment later. A query only reads, so retrying it is safe.

A local ``PersistentClient`` keeps the vector index it loaded: vectors another process wrote
to the same folder stay unseen by it (chromadb 1.5.9), and a filtered query can then fail with
``Error finding id``. That error is raised as a ``MemoryBackendError`` that says so: processes
that share a memory share a ``chroma run`` server.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from reflexion_graph.errors import MemoryBackendError

logger = logging.getLogger(__name__)

STALE_INDEX = "Error finding id"
"""Chroma's message when its metadata knows an id its loaded vector index does not."""
RETRY_DELAYS = (0.05, 0.2, 0.5)
"""Seconds to wait before each retry of a query the server failed internally."""


def query_nearest(collection: Any, **query: Any) -> Any:
    """``collection.query(**query)``, retried after a server-side ``InternalError``.

    Other errors (bad arguments, a missing collection, an unreachable server) are raised at
    once; an ``InternalError`` that outlasts the retries is raised as it came.
    """
    from chromadb.errors import InternalError

    for delay in RETRY_DELAYS:
        try:
            return collection.query(**query)
        except InternalError as error:
            logger.warning("chroma query failed (%s); retrying in %.2f s", error, delay)
            time.sleep(delay)
    try:
        return collection.query(**query)
    except InternalError as error:
        if STALE_INDEX not in str(error):
            raise
        raise MemoryBackendError(
            f"Chroma collection {collection.name!r}: {error}. Another process wrote to this "
            "Chroma folder; a local PersistentClient does not see vectors other processes "
            "write. Share one `chroma run` server between processes (HttpClient)."
        ) from error
