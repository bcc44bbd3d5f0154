"""Store conformance: the same cases against LangGraph's InMemoryStore and our ChromaStore.

LangGraph ships no store conformance suite (its docs say to test against InMemoryStore); these
cases follow its own store tests: batches of mixed operations, namespaces (prefix, suffix,
wildcards, depth, pages), filters, pagination, vector search with filters, non-ASCII.
"""

import asyncio
import math

import chromadb
import pytest
from chromadb.config import Settings
from langgraph.store.base import GetOp, ListNamespacesOp, PutOp, SearchOp
from langgraph.store.memory import InMemoryStore

from reflexion_graph.memory import ChromaStore

pytestmark = pytest.mark.integration

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def letter_counts(texts):
    """A deterministic embedding: how often each letter occurs (cosine ranks by shared letters)."""
    return [[float(text.lower().count(letter)) + 1e-3 for letter in LETTERS] for text in texts]


INDEX = {"dims": len(LETTERS), "embed": letter_counts, "fields": ["text"]}


@pytest.fixture(params=["in-memory", "chroma"])
def store(request, tmp_path):
    if request.param == "in-memory":
        return InMemoryStore(index=INDEX)
    client = chromadb.PersistentClient(
        path=str(tmp_path / "chroma"), settings=Settings(anonymized_telemetry=False)
    )
    return ChromaStore(client, index=INDEX)


def test_put_get_update_delete(store):
    store.put(("users", "ü"), "prefs", {"theme": "dark", "名前": "太郎"})
    item = store.get(("users", "ü"), "prefs")
    assert item.value == {"theme": "dark", "名前": "太郎"}
    assert (item.namespace, item.key) == (("users", "ü"), "prefs")
    store.put(("users", "ü"), "prefs", {"theme": "light"})
    updated = store.get(("users", "ü"), "prefs")
    assert updated.value == {"theme": "light"} and updated.updated_at >= item.updated_at
    assert updated.created_at == item.created_at or isinstance(store, InMemoryStore)
    store.delete(("users", "ü"), "prefs")
    assert store.get(("users", "ü"), "prefs") is None
    assert store.get(("nobody",), "nothing") is None


def test_a_batch_reads_the_store_as_it_was_then_applies_its_puts(store):
    store.put(("docs",), "a", {"text": "old apple"})
    results = store.batch(
        [
            PutOp(("docs",), "a", {"text": "apple"}),
            PutOp(("docs",), "b", {"text": "banana"}),
            PutOp(("docs",), "b", {"text": "blueberry"}),  # the last put of a key wins
            GetOp(("docs",), "a"),
            SearchOp(("docs",), limit=10),
            ListNamespacesOp(limit=10),
        ]
    )
    assert results[:3] == [None, None, None]
    assert results[3].value == {"text": "old apple"}
    assert [item.key for item in results[4]] == ["a"]
    assert results[5] == [("docs",)]
    assert store.get(("docs",), "b").value == {"text": "blueberry"}
    again = asyncio.run(store.abatch([GetOp(("docs",), "b"), GetOp(("docs",), "zzz")]))
    assert again[0].value == {"text": "blueberry"} and again[1] is None


NAMESPACES = [
    ("a", "b", "c"),
    ("a", "b", "d", "e"),
    ("a", "b", "d", "i"),
    ("a", "b", "f"),
    ("a", "c", "f"),
    ("b", "a", "f"),
    ("users", "123"),
    ("users", "456", "settings"),
    ("admin", "users", "789"),
]


@pytest.mark.parametrize(
    "kwargs,expected",
    [
        ({"prefix": ("a", "b")}, [NAMESPACES[i] for i in (0, 1, 2, 3)]),
        ({"suffix": ("f",)}, [NAMESPACES[i] for i in (3, 4, 5)]),
        ({"prefix": ("a",), "suffix": ("f",)}, [NAMESPACES[i] for i in (3, 4)]),
        ({"prefix": ("a", "*", "f")}, [NAMESPACES[i] for i in (3, 4)]),
        ({"suffix": ("*", "f")}, [NAMESPACES[i] for i in (3, 4, 5)]),
        (
            {"max_depth": 2},
            [
                ("a", "b"),
                ("a", "c"),
                ("admin", "users"),
                ("b", "a"),
                ("users", "123"),
                ("users", "456"),
            ],
        ),
        (
            {"prefix": ("a",), "max_depth": 3},
            [("a", "b", "c"), ("a", "b", "d"), ("a", "b", "f"), ("a", "c", "f")],
        ),
        ({"limit": 3, "offset": 2}, sorted(NAMESPACES)[2:5]),
        ({"prefix": ("nope",)}, []),
    ],
)
def test_list_namespaces(store, kwargs, expected):
    for namespace in NAMESPACES:
        store.put(namespace, "k", {"text": "x"}, index=False)
    assert store.list_namespaces(**kwargs) == expected


def test_search_filters_and_pages_within_a_namespace_prefix(store):
    for n in range(10):
        store.put(("shop", "items"), f"i{n}", {"n": n, "kind": "even" if n % 2 == 0 else "odd"})
    store.put(("shop", "other"), "x", {"n": 100, "kind": "even"})
    store.put(("elsewhere",), "y", {"n": 5, "kind": "even"})
    even = store.search(("shop",), filter={"kind": "even"}, limit=50)
    assert sorted(item.key for item in even) == ["i0", "i2", "i4", "i6", "i8", "x"]
    big = store.search(("shop", "items"), filter={"n": {"$gte": 7}}, limit=50)
    assert sorted(item.value["n"] for item in big) == [7, 8, 9]
    window = store.search(("shop", "items"), filter={"n": {"$gt": 2, "$lt": 6}}, limit=50)
    assert sorted(item.key for item in window) == ["i3", "i4", "i5"]
    assert [item.key for item in store.search(("shop",), filter={"n": {"$ne": 100}}, limit=50)]
    pages = [store.search(("shop", "items"), limit=4, offset=o) for o in (0, 4, 8)]
    assert [len(page) for page in pages] == [4, 4, 2]
    assert len({item.key for page in pages for item in page}) == 10


def test_vector_search_ranks_by_the_best_field_and_respects_filters(store):
    store.put(("docs",), "fruit", {"text": "apple banana", "lang": "en"})
    store.put(("docs",), "cars", {"text": "zyxw vvvv", "lang": "en"})
    store.put(("docs",), "fr", {"text": "pomme banane", "lang": "fr"})
    store.put(("docs",), "plain", {"text": "apple"}, index=False)
    ranked = store.search(("docs",), query="banana apple", limit=10)
    scored = [item for item in ranked if item.score is not None]
    assert scored[0].key == "fruit" and scored[0].score == pytest.approx(1.0, abs=1e-3)
    assert [item.score for item in scored] == sorted((i.score for i in scored), reverse=True)
    assert ranked[-1].key == "plain" and ranked[-1].score is None  # not indexed: after scores
    french = store.search(("docs",), query="banana", filter={"lang": "fr"}, limit=10)
    assert [item.key for item in french] == ["fr"]
    assert store.search(("docs",), query="banana", filter={"lang": "de"}, limit=10) == []
    assert [i.key for i in store.search(("docs",), query="banana apple", limit=1, offset=1)] == [
        scored[1].key
    ]
    assert math.isfinite(scored[-1].score)


def test_chroma_store_on_a_chroma_server_keeps_items_for_another_client(chroma_server):
    host, port = chroma_server
    settings = Settings(anonymized_telemetry=False)
    writer = ChromaStore(chromadb.HttpClient(host=host, port=port, settings=settings), index=INDEX)
    writer.put(("team",), "note", {"text": "shared between workers"})
    reader = ChromaStore(chromadb.HttpClient(host=host, port=port, settings=settings), index=INDEX)
    [found] = reader.search(("team",), query="shared workers")
    assert found.value == {"text": "shared between workers"} and found.score > 0.5
