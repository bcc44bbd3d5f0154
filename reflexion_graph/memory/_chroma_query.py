"""Nearest-neighbour queries on a Chroma collection that ride out a server's transient race.

A ``chroma run`` server (1.5.x) can answer a query with ``InternalError: Error creating hnsw
segment reader: Nothing found on disk`` while another client's first write to the collection
is being persisted (chroma-core/chroma#4212). Seen here with three workers sharing one server;
the same query succeeds a moment later. A query only reads, so retrying it is safe.
"""

from __future__ import annotations

import logging
import time
from typing import Any

logger = logging.getLogger(__name__)

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
    return collection.query(**query)
