"""A run embeds its task once: the memory keeps the last few query vectors."""

import threading

from langchain_core.embeddings import Embeddings

from reflexion_graph.memory._embeddings import QueryVectors


class CountingEmbeddings(Embeddings):
    def __init__(self) -> None:
        self.queries: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        self.queries.append(text)
        return [float(len(text)), 1.0]


def test_a_text_is_embedded_once_while_it_stays_among_the_last_kept():
    embeddings = CountingEmbeddings()
    vectors = QueryVectors(embeddings, kept=2)
    assert vectors.vector("task a") == vectors.vector("task a") == [6.0, 1.0]
    vectors.vector("task b")
    vectors.vector("task a")  # recent again, so "task b" is the oldest
    vectors.vector("task c")  # evicts "task b"
    vectors.vector("task a")
    vectors.vector("task b")
    assert embeddings.queries == ["task a", "task b", "task c", "task b"]


def test_a_caller_changing_a_vector_does_not_change_what_is_kept():
    vectors = QueryVectors(CountingEmbeddings())
    vectors.vector("t").append(99.0)
    assert vectors.vector("t") == [1.0, 1.0]


def test_threads_get_the_same_vector():
    vectors = QueryVectors(CountingEmbeddings())
    seen: list[list[float]] = []
    threads = [threading.Thread(target=lambda: seen.append(vectors.vector("x"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [[1.0, 1.0]] * 8
