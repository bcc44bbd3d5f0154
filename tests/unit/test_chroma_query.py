"""Retrying Chroma queries: only a server's internal failure is retried, and only so often."""

import pytest
from chromadb.errors import InternalError, InvalidArgumentError

from reflexion_graph.stores import _chroma_query
from reflexion_graph.stores._chroma_query import query_nearest


class FlakyCollection:
    """Fails its first ``failures`` queries with ``error``, then answers."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def query(self, **query):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return {"asked": query}


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    monkeypatch.setattr(_chroma_query, "RETRY_DELAYS", (0.0, 0.0, 0.0))


def test_a_transient_internal_error_is_retried_until_the_query_answers():
    reader_race = InternalError("Error creating hnsw segment reader: Nothing found on disk")
    collection = FlakyCollection(failures=2, error=reader_race)
    assert query_nearest(collection, n_results=3) == {"asked": {"n_results": 3}}
    assert collection.calls == 3


def test_an_internal_error_that_persists_is_raised_after_the_last_retry():
    collection = FlakyCollection(failures=10, error=InternalError("disk gone"))
    with pytest.raises(InternalError, match="disk gone"):
        query_nearest(collection, n_results=3)
    assert collection.calls == 4


def test_a_bad_query_is_raised_at_once():
    collection = FlakyCollection(failures=1, error=InvalidArgumentError("n_results < 1"))
    with pytest.raises(InvalidArgumentError):
        query_nearest(collection, n_results=0)
    assert collection.calls == 1
