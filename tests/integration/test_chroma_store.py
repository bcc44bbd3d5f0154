"""Store conformance: the same cases against LangGraph's InMemoryStore and our ChromaStore.

LangGraph ships no store conformance suite (its docs say to test against InMemoryStore); these
cases follow its own store tests: batches of mixed operations, namespaces (prefix, suffix,
wildcards, depth, pages), filters, pagination, vector search with filters, non-ASCII.
"""

import asyncio
import math
import random
import subprocess
import sys
import uuid

import chromadb
import pytest
from chromadb.config import Settings
from langgraph.store.base import GetOp, ListNamespacesOp, PutOp, SearchOp
from langgraph.store.memory import InMemoryStore

from reflexion_graph.errors import MemoryBackendError
from reflexion_graph.stores import ChromaStore

pytestmark = pytest.mark.integration

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def letter_counts(texts):
    """A deterministic embedding: how often each letter occurs (cosine ranks by shared letters)."""
    return [[float(text.lower().count(letter)) + 1e-3 for letter in LETTERS] for text in texts]


INDEX = {"dims": len(LETTERS), "embed": letter_counts, "fields": ["text"]}


STORES = ["in-memory", "chroma", "chroma-server"]


def open_store(kind, request, tmp_path, index=INDEX):
    """One of the stores under test, empty, with ``index``."""
    if kind == "in-memory":
        return InMemoryStore(index=index)
    settings = Settings(anonymized_telemetry=False)
    if kind == "chroma":
        client = chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=settings)
        return ChromaStore(client, index=index)
    host, port = request.getfixturevalue("chroma_server")
    client = chromadb.HttpClient(host=host, port=port, settings=settings)
    return ChromaStore(client, collection=f"store-{uuid.uuid4().hex}", index=index)


@pytest.fixture(params=STORES)
def store(request, tmp_path):
    return open_store(request.param, request, tmp_path)


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


def test_a_search_returns_the_items_current_value_as_its_indexed_fields_change(store):
    """One indexed field, then several, then one again: every search sees the latest value."""
    store.put(("docs",), "note", {"text": "apple", "tags": ["x"], "v": 1})
    store.put(("docs",), "note", {"text": "apple", "tags": ["pear", "plum"], "v": 2},
              index=["text", "tags[*]"])  # fmt: skip
    for query in ("plum", "apple"):  # a new field's vector, and the one it had before
        (found,) = store.search(("docs",), query=query, limit=1)
        assert (found.key, found.value["v"]) == ("note", 2)
    store.put(("docs",), "note", {"text": "apple", "tags": [], "v": 3})
    (found,) = store.search(("docs",), query="apple", limit=1)
    assert found.value["v"] == 3 and found.score is not None
    store.put(("docs",), "note", {"text": "apple", "v": 4}, index=False)
    (found,) = store.search(("docs",), query="apple", limit=1)
    assert found.value["v"] == 4  # (InMemoryStore keeps the old vectors; we drop them)


def test_chroma_store_on_a_chroma_server_keeps_items_for_another_client(chroma_server):
    host, port = chroma_server
    settings = Settings(anonymized_telemetry=False)
    writer = ChromaStore(chromadb.HttpClient(host=host, port=port, settings=settings), index=INDEX)
    writer.put(("team",), "note", {"text": "shared between workers"})
    reader = ChromaStore(chromadb.HttpClient(host=host, port=port, settings=settings), index=INDEX)
    [found] = reader.search(("team",), query="shared workers")
    assert found.value == {"text": "shared between workers"} and found.score > 0.5


def test_nested_filters_match_part_of_a_stored_object(store):
    store.put(("p",), "ana", {"content": {"name": "Ana", "age": 30, "tags": ["a", "b"]}})
    store.put(("p",), "bo", {"content": {"name": "Bo", "age": 12}})
    store.put(("p",), "flat", {"content": "Ana"})

    def keys(condition):
        return sorted(item.key for item in store.search(("p",), filter=condition))

    assert keys({"content": {"name": "Ana"}}) == ["ana"]
    assert keys({"content": {"age": {"$gt": 18}}}) == ["ana"]
    assert keys({"content": {"age": {"$lte": 30}, "name": {"$ne": "Ana"}}}) == ["bo"]
    assert keys({"content": {"tags": ("a", "b")}}) == ["ana"]  # a tuple matches a stored list
    assert keys({"content": "Ana"}) == ["flat"]
    found = store.search(("p",), query="ana", filter={"content": {"name": "Ana"}})
    assert [item.key for item in found] == ["ana"]


def test_values_compare_as_langgraph_compares_them(store):
    store.put(("v",), "one", {"n": 1, "flag": True, "text": "10", "big": 2**63 - 1})
    store.put(("v",), "two", {"n": 2.0, "flag": False, "text": "9", "big": 2**70})

    def keys(condition):
        return sorted(item.key for item in store.search(("v",), filter=condition))

    assert keys({"n": True}) == ["one"]  # True == 1
    assert keys({"flag": 1}) == ["one"]
    assert keys({"n": 2}) == ["two"]  # 2 == 2.0
    assert keys({"text": {"$gt": 9.5}}) == ["one"]  # "10" compares as a number
    assert keys({"text": "10"}) == ["one"]
    assert keys({"big": 2**70}) == ["two"]  # exact, not the nearest 64-bit integer
    assert keys({"big": 2**63 - 1}) == ["one"]
    assert keys({"n": {"$gte": 1}}) == ["one", "two"]
    assert keys({"n": {"$ne": 1}}) == ["two"]
    assert keys({"n": {"$lt": math.inf}}) == ["one", "two"]


@pytest.mark.parametrize("kind", ["chroma", "chroma-server"])
def test_a_missing_or_non_numeric_value_does_not_match_an_ordering(kind, request, tmp_path):
    # InMemoryStore raises TypeError for the whole search; PostgreSQL's store returns no row.
    store = open_store(kind, request, tmp_path)
    for key, value in [("one", 1), ("none", None), ("word", "many"), ("list", [1])]:
        store.put(("v",), key, {"n": value})
    store.put(("v",), "missing", {"other": 1})
    assert [item.key for item in store.search(("v",), filter={"n": {"$gte": 0}})] == ["one"]
    assert sorted(i.key for i in store.search(("v",), filter={"n": {"$ne": 1}})) == [
        "list",
        "missing",
        "none",
        "word",
    ]
    with pytest.raises(ValueError, match="needs a number, got None"):  # InMemory: TypeError
        store.search(("v",), filter={"n": {"$gt": None}})


@pytest.mark.parametrize(
    "condition,named",
    [
        ({"n": {"$in": [1, 2]}}, r"\$in"),
        ({"content": {"age": {"$regex": "3"}}}, r"\$regex"),
        ({"n": {"$gte": "many"}}, "many"),
    ],
)
def test_a_filter_no_store_can_answer_is_a_clear_value_error(store, condition, named):
    store.put(("v",), "one", {"n": 1, "content": {"age": 3}})
    with pytest.raises(ValueError, match=named):
        store.search(("v",), filter=condition)
    assert store.get(("v",), "one").value == {"n": 1, "content": {"age": 3}}


def test_a_negative_offset_or_limit_is_named(store):
    if isinstance(store, InMemoryStore):
        pytest.skip("InMemoryStore slices with a negative offset; PostgreSQL refuses it")
    with pytest.raises(ValueError, match="offset"):
        store.search(("v",), offset=-1)
    with pytest.raises(ValueError, match="limit"):
        store.search(("v",), limit=-5)


@pytest.mark.parametrize("kind", STORES)
def test_a_put_whose_embedding_fails_keeps_the_old_item_and_its_vectors(kind, request, tmp_path):
    def embed(texts):
        if any("boom" in text for text in texts):
            raise RuntimeError("the embedding service is down")
        return letter_counts(texts)

    store = open_store(kind, request, tmp_path, {**INDEX, "embed": embed})
    store.put(("docs",), "a", {"text": "apple pie"})
    with pytest.raises(RuntimeError, match="embedding service"):
        store.put(("docs",), "a", {"text": "boom"})
    assert store.get(("docs",), "a").value == {"text": "apple pie"}
    [found] = store.search(("docs",), query="apple pie")
    assert found.key == "a" and found.score == pytest.approx(1.0, abs=1e-3)


def seeded_vectors(texts):
    """A distinct pseudo-random vector per text (no degenerate duplicates for HNSW)."""
    return [[rng.random() - 0.5 for _ in LETTERS] for rng in map(random.Random, texts)]


@pytest.mark.parametrize("kind", ["chroma", "chroma-server"])
def test_writes_past_chromas_batch_limit_all_land_and_are_found(kind, request, tmp_path):
    fields = ["title", "body", "tags"]
    store = open_store(
        kind, request, tmp_path, {**INDEX, "embed": seeded_vectors, "fields": fields}
    )
    count = store.max_batch // len(fields) + 10  # more vectors than one Chroma write takes
    store.batch(
        [
            PutOp(("bulk",), f"k{n}", {"title": f"title {n}", "body": f"body {n}", "tags": f"#{n}"})
            for n in range(count)
        ]
    )
    assert len(store.search(("bulk",), limit=count + 1)) == count
    assert store.vectors.count() == len(fields) * count
    for n in (0, count - 1):
        [best] = store.search(("bulk",), query=f"body {n}", limit=1)
        assert best.key == f"k{n}" and best.score == pytest.approx(1.0, abs=1e-3)
    wide = open_store(
        kind, request, tmp_path, {**INDEX, "embed": seeded_vectors, "fields": ["words[*]"]}
    )
    wide.put(("wide",), "list", {"words": [f"w{n}" for n in range(store.max_batch + 5)]})
    [found] = wide.search(("wide",), query=f"w{store.max_batch + 4}")
    assert found.key == "list" and found.score == pytest.approx(1.0, abs=1e-3)


WRITER = """
import sys, chromadb, random
from chromadb.config import Settings
from reflexion_graph.stores import ChromaStore
from tests.integration.test_chroma_store import INDEX, seeded_vectors
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
store = ChromaStore(client, index={**INDEX, "embed": seeded_vectors})
store.batch([PutOp(("ns",), f"b{n}", {"text": f"b {n}", "who": "b"}) for n in range(300)])
""".replace("import sys,", "from langgraph.store.base import PutOp\nimport sys,")


def test_a_folder_written_by_another_process_is_seen_or_named_not_a_raw_chroma_error(tmp_path):
    settings = Settings(anonymized_telemetry=False)
    client = chromadb.PersistentClient(path=str(tmp_path / "shared"), settings=settings)
    reader = ChromaStore(client, index={**INDEX, "embed": seeded_vectors})
    reader.put(("ns",), "a0", {"text": "a 0", "who": "a"})
    subprocess.run([sys.executable, "-c", WRITER, str(tmp_path / "shared")], check=True)
    try:
        found = reader.search(("ns",), query="b 5", filter={"who": "b"}, limit=1)
    except MemoryBackendError as error:  # chromadb 1.5.9: the reader's index is stale
        assert "chroma run" in str(error)
    else:
        assert [item.key for item in found] == ["b5"]


@pytest.mark.parametrize("kind", ["chroma", "chroma-server"])
def test_where_in_memory_store_is_wrong_chroma_store_answers_as_postgres(kind, request, tmp_path):
    store = open_store(kind, request, tmp_path)
    store.put(("docs",), "a", {"text": "apple"})
    store.put(("docs",), "a", {"text": "zzz"}, index=False)  # InMemoryStore keeps the old vector
    [item] = store.search(("docs",), query="apple")
    assert item.value == {"text": "zzz"} and item.score is None
    store.put(("gone",), "k", {"text": "x"})
    store.delete(("gone",), "k")  # InMemoryStore still lists the emptied namespace
    assert store.list_namespaces() == [("docs",)]


@pytest.mark.parametrize("kind", STORES)
def test_a_semantic_search_keeps_to_its_prefix_whether_it_holds_most_items_or_few(
    kind, request, tmp_path
):
    store = open_store(kind, request, tmp_path, {**INDEX, "embed": seeded_vectors})
    store.batch(
        [PutOp(("big",), f"b{n}", {"text": f"apple pie number {n}"}) for n in range(200)]
        + [PutOp(("small",), f"s{n}", {"text": f"apple tart {n}"}) for n in range(3)]
    )
    small = store.search(("small",), query="apple pie", limit=10)
    assert sorted(item.key for item in small) == ["s0", "s1", "s2"]
    big = store.search(("big",), query="apple pie", limit=5)
    assert len(big) == 5 and all(item.key.startswith("b") for item in big)
    assert [i.score for i in big] == sorted((i.score for i in big), reverse=True)
