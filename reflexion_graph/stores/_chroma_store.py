"""Chroma as a LangGraph ``BaseStore``: items, namespaces and semantic search in one Chroma.

Items live in one collection (the value as a JSON document; the namespace, one metadata field
per label, so a prefix is a metadata filter). Their embeddings live in a second collection, one
vector per indexed field, so an item is found by its best-matching field (max pooling, as in
LangGraph's own stores). An item with one vector (one indexed field) rides along with it, so
its search needs one query. Filters mean what they mean in LangGraph's stores (``_store_filter``);
Chroma narrows the candidates by namespace and by top-level equality, and every filter is
checked here. A put embeds first, so one whose embedding fails changes nothing, and writes in chunks
under the client's maximum batch size. TTLs are not supported.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
)
from langgraph.store.base.embed import ensure_embeddings, get_text_at_path, tokenize_path

from reflexion_graph.errors import ConfigurationError
from reflexion_graph.stores._chroma_query import query_nearest
from reflexion_graph.stores._store_filter import (
    check_filter,
    equal_alternatives,
    matches,
    stored_for_filters,
)

_NAMESPACE = "namespace"
_VALUE = "v."
_CHUNK = 2000  # items per round of writes
_CARRIES = "carries_item"  # on a vector: whether its document is its item's value, up to date
_LABEL = "ns{}"  # metadata field of the label at a depth: ns0, ns1, ...


class ChromaStore(BaseStore):
    """A LangGraph store on any Chroma client (a folder, or a ``chroma run`` server).

    Args:
        client: A Chroma client (``chromadb.PersistentClient(...)``, ``HttpClient(...)``).
        collection: Name of the items' collection; vectors go to ``{collection}-vectors``.
        index: LangGraph's ``IndexConfig`` (``dims``, ``embed``, ``fields``) for semantic
            search; without it, ``search(query=...)`` ignores the query, as in LangGraph.
    """

    supports_ttl = False

    def __init__(
        self, client: Any, *, collection: str = "langgraph-store", index: IndexConfig | None = None
    ) -> None:
        self.items = client.get_or_create_collection(collection, embedding_function=None)
        self.vectors = client.get_or_create_collection(
            f"{collection}-vectors",
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
        )
        self.embeddings = ensure_embeddings(index["embed"]) if index else None
        self.fields = list((index or {}).get("fields") or ["$"])
        self.max_batch = int(client.get_max_batch_size())
        """The most records one Chroma write takes (the client says; 5,461 locally)."""

    # -- BaseStore ------------------------------------------------------------------------
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Answer the reads, then apply the puts; the last put of a key wins.

        As in LangGraph's InMemoryStore, reads in a batch see the store as it was before it.
        """
        ops = list(ops)
        results = [None if isinstance(op, PutOp) else self._read(op) for op in ops]
        puts = {(op.namespace, op.key): op for op in ops if isinstance(op, PutOp)}
        self._put_all(list(puts.values()))
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Async twin of :meth:`batch` (Chroma's client is synchronous: a worker thread)."""
        return await asyncio.to_thread(self.batch, list(ops))

    # -- operations -----------------------------------------------------------------------
    def _read(self, op: Op) -> Result:
        if isinstance(op, GetOp):
            return self._get(op.namespace, op.key)
        if isinstance(op, SearchOp):
            return self._search(op)
        if isinstance(op, ListNamespacesOp):
            return self._list_namespaces(op)
        raise ConfigurationError(f"unknown store operation {type(op).__name__}")

    def _get(self, namespace: tuple[str, ...], key: str) -> Item | None:
        found = self.items.get(ids=[_item_id(namespace, key)], include=["documents", "metadatas"])
        if not found["ids"]:
            return None
        return _item(found["documents"][0], found["metadatas"][0])

    def _put_all(self, puts: Sequence[PutOp]) -> None:
        """Embed every put's fields first, then write: new vectors, items, stale vectors out.

        An embedding error leaves the store as it was; a write error leaves every old item
        with its vectors (at worst a new vector beside the old item).
        """
        texts = {_item_id(op.namespace, op.key): self._texts(op) for op in puts}
        fields = [(item_id, path, text) for item_id, found in texts.items() for path, text in found]
        vectors = self._embed([text for *_, text in fields])
        by_item: dict[str, list[tuple[str, list[float]]]] = {}
        for (item_id, path, _), vector in zip(fields, vectors, strict=True):
            by_item.setdefault(item_id, []).append((path, vector))
        for chunk in _chunks(puts, min(_CHUNK, self.max_batch)):
            self._put_chunk(chunk, by_item)

    def _embed(self, texts: list[str]) -> list[list[float]]:
        if not texts or self.embeddings is None:
            return []
        return [[float(x) for x in vector] for vector in self.embeddings.embed_documents(texts)]

    def _put_chunk(
        self, puts: Sequence[PutOp], vectors: Mapping[str, list[tuple[str, list[float]]]]
    ) -> None:
        """Write one chunk: vectors, then items, then the items' stale vectors out."""
        ids = [_item_id(op.namespace, op.key) for op in puts]
        kept = [
            (item_id, op) for item_id, op in zip(ids, puts, strict=True) if op.value is not None
        ]
        records = self._item_records(kept)
        single = {item_id for item_id, found in vectors.items() if len(found) == 1}
        new_vectors = [
            (f"{item_id}|{path}", vector, item_id, {**records[item_id][1], "item": item_id,
                                                    "path": path, _CARRIES: item_id in single})
            for item_id, _ in kept
            for path, vector in vectors.get(item_id, [])
        ]  # fmt: skip
        for carries in (True, False):  # an item with one vector rides along with it
            chosen = [v for v in new_vectors if v[3][_CARRIES] is carries]
            for part in _chunks(chosen, self.max_batch):
                documents = [records[item_id][0] for _, _, item_id, _ in part]
                self.vectors.upsert(
                    ids=[vector_id for vector_id, *_ in part],
                    embeddings=[vector for _, vector, _, _ in part],
                    metadatas=[metadata for *_, metadata in part],
                    **({"documents": documents} if carries else {}),
                )
        gone = [item_id for item_id, op in zip(ids, puts, strict=True) if op.value is None]
        if gone:
            self.items.delete(ids=gone)
        if kept:
            self.items.upsert(
                ids=[item_id for item_id, _ in kept],
                embeddings=[[1.0]] * len(kept),  # Chroma keeps a vector per record; unused here
                documents=[records[item_id][0] for item_id, _ in kept],
                metadatas=[
                    {**records[item_id][1], "indexed": item_id in vectors} for item_id, _ in kept
                ],
            )
        fresh = {vector_id for vector_id, *_ in new_vectors}
        old = self.vectors.get(where={"item": {"$in": ids}}, include=[])["ids"]
        for part in _chunks(
            [vector_id for vector_id in old if vector_id not in fresh], self.max_batch
        ):
            self.vectors.delete(ids=part)

    def _item_records(
        self, kept: Sequence[tuple[str, PutOp]]
    ) -> dict[str, tuple[str, dict[str, Any]]]:
        """Each item's document (its value) and metadata, keeping an existing ``created_at``."""
        if not kept:
            return {}
        existing = self.items.get(ids=[item_id for item_id, _ in kept], include=["metadatas"])
        created = {
            item_id: str(metadata["created_at"])
            for item_id, metadata in zip(existing["ids"], existing["metadatas"], strict=True)
        }
        now = datetime.now(UTC).isoformat()
        return {
            item_id: (
                json.dumps(dict(op.value or {}), ensure_ascii=False),
                {
                    **_namespace_metadata(op.namespace),
                    **_value_metadata(op.value or {}),
                    "key": op.key,
                    "created_at": created.get(item_id, now),
                    "updated_at": now,
                },
            )
            for item_id, op in kept
        }

    def _texts(self, op: PutOp) -> list[tuple[str, str]]:
        """``(path, text)`` of each field to embed (none when the put says ``index=False``)."""
        if self.embeddings is None or op.index is False or op.value is None:
            return []
        paths = self.fields if op.index is None else list(op.index)
        texts = []
        for path in paths:
            found = get_text_at_path(op.value, path if path == "$" else tokenize_path(path))
            several = len(found) > 1
            texts += [(f"{path}.{n}" if several else path, text) for n, text in enumerate(found)]
        return texts

    def _search(self, op: SearchOp) -> list[SearchItem]:
        """Chroma narrows by namespace and top-level equality; the filter, and pooling, here."""
        check_filter(op.filter)
        for name in ("limit", "offset"):
            if getattr(op, name) < 0:
                raise ValueError(f"search {name} must be >= 0, got {getattr(op, name)}")
        narrowed = equal_alternatives(op.filter)
        pushed = [_any_of(f"{_VALUE}{field}", values) for field, values in narrowed.items()]
        where = _where([*_prefix_conditions(op.namespace_prefix), *pushed])
        wanted = op.offset + op.limit
        if not (op.query and self.embeddings is not None):
            if len(narrowed) == len(op.filter or {}):  # Chroma pages itself (insertion order)
                page = self._page(op.namespace_prefix, pushed, op.limit, op.offset)
                return [_search_item(item, None) for item in page]
            matching = [i for i in self._items(where=where) if matches(i.value, op.filter)]
            return [_search_item(item, None) for item in matching[op.offset : wanted]]
        ranked = self._ranked(op.query, where, op.filter, wanted, op.namespace_prefix)
        if len(ranked) < wanted:  # as LangGraph: items without vectors come after the scored
            unindexed = _where(
                [*_prefix_conditions(op.namespace_prefix), *pushed, {"indexed": False}]
            )
            extra = [i for i in self._items(where=unindexed) if matches(i.value, op.filter)]
            ranked += [_search_item(item, None) for item in extra[: wanted - len(ranked)]]
        return ranked[op.offset : wanted]

    def _page(
        self, prefix: tuple[str, ...], pushed: list[dict[str, Any]], limit: int, offset: int
    ) -> list[Item]:
        """Items ``offset`` to ``offset + limit`` in ``prefix`` that meet ``pushed``.

        First without the prefix's conditions (Chroma's ``$and`` is ~3x slower): when every
        item that comes back is inside ``prefix``, that is the page. Otherwise Chroma filters.
        """
        if limit == 0:
            return []
        if prefix:
            first = self._items(where=_where(pushed), limit=offset + limit)
            if all(_in_prefix(_namespace_metadata(item.namespace), prefix) for item in first):
                return first[offset:]
        where = _where([*_prefix_conditions(prefix), *pushed])
        return self._items(where=where, limit=limit, offset=offset)

    def _ranked(
        self,
        query: str,
        where: dict[str, Any] | None,
        conditions: Mapping[str, Any] | None,
        wanted: int,
        prefix: tuple[str, ...] = (),
    ) -> list[SearchItem]:
        """The ``wanted`` best items by their best field's cosine similarity to ``query``.

        First without a ``where`` (Chroma's filtered search is ~10x slower), keeping the hits
        inside ``prefix`` that meet ``conditions``: when the nearest vectors hold enough of
        them, those are the best ones. Otherwise Chroma filters, fetching more until enough.
        """
        if self.embeddings is None:
            return []
        vector = self.embeddings.embed_query(query)
        n = max(4 * wanted, 20)
        if where is not None:
            ranked, _ = self._nearest(vector, None, n, conditions, prefix)
            if len(ranked) >= wanted:
                return ranked[:wanted]
        while True:
            ranked, hits = self._nearest(vector, where, n, conditions, prefix)
            if len(ranked) >= wanted or hits < n:  # enough, or every match came back
                return ranked
            n *= 4

    def _nearest(
        self,
        vector: list[float],
        where: dict[str, Any] | None,
        n: int,
        conditions: Mapping[str, Any] | None,
        prefix: tuple[str, ...],
    ) -> tuple[list[SearchItem], int]:
        """The ranked items of the ``n`` nearest vectors, and how many vectors came back.

        Only items in ``prefix`` that meet ``conditions`` are kept.
        """
        found = query_nearest(
            self.vectors,
            query_embeddings=[vector],
            n_results=n,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        hits = list(
            zip(found["documents"][0], found["metadatas"][0], found["distances"][0], strict=True)
        )
        best: dict[str, tuple[float, Item | None]] = {}
        for document, metadata, distance in hits:  # nearest first
            item_id = str(metadata["item"])
            if _in_prefix(metadata, prefix) and item_id not in best:
                carried = metadata.get(_CARRIES) is True and document is not None
                best[item_id] = (
                    1.0 - float(distance),
                    _item(document, metadata) if carried else None,
                )
        older = [item_id for item_id, (_, item) in best.items() if item is None]
        fetched = {_item_id(i.namespace, i.key): i for i in self._items(ids=older)} if older else {}
        ranked = []
        for item_id, (score, carried_item) in best.items():
            item = carried_item or fetched.get(item_id)  # vectors written before items rode along
            if item is not None and matches(item.value, conditions):
                ranked.append(_search_item(item, score))
        return ranked, len(hits)

    def _items(self, **query: Any) -> list[Item]:
        found = self.items.get(include=["documents", "metadatas"], **query)
        return [
            _item(document, metadata)
            for document, metadata in zip(found["documents"], found["metadatas"], strict=True)
        ]

    def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        stored = self.items.get(include=["metadatas"])
        namespaces = {tuple(json.loads(m[_NAMESPACE])) for m in stored["metadatas"]}
        kept = [
            namespace
            for namespace in namespaces
            if all(_namespace_matches(c, namespace) for c in op.match_conditions or ())
        ]
        if op.max_depth is not None:
            kept = list({namespace[: op.max_depth] for namespace in kept})
        return sorted(kept)[op.offset : op.offset + op.limit]


def _item_id(namespace: Sequence[str], key: str) -> str:
    return json.dumps([*namespace, key], ensure_ascii=False)


def _namespace_metadata(namespace: tuple[str, ...]) -> dict[str, Any]:
    labels = {_LABEL.format(depth): label for depth, label in enumerate(namespace)}
    return {_NAMESPACE: json.dumps(list(namespace), ensure_ascii=False), **labels}


def _prefix_conditions(prefix: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{_LABEL.format(depth): label} for depth, label in enumerate(prefix)]


def _in_prefix(metadata: Mapping[str, Any], prefix: tuple[str, ...]) -> bool:
    return all(metadata.get(_LABEL.format(depth)) == label for depth, label in enumerate(prefix))


def _where(conditions: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def _value_metadata(value: Mapping[str, Any]) -> dict[str, Any]:
    """Top-level text, bools and exact numbers (``v.<field>``): Chroma narrows by them."""
    return {f"{_VALUE}{field}": item for field, item in value.items() if stored_for_filters(item)}


def _any_of(key: str, values: list[Any]) -> dict[str, Any]:
    if len(values) == 1:
        return {key: values[0]}
    return {"$or": [{key: value} for value in values]}


def _chunks(records: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    return (records[start : start + size] for start in range(0, len(records), size))


def _item(document: str, metadata: Mapping[str, Any]) -> Item:
    return Item(
        value=json.loads(document),
        key=str(metadata["key"]),
        namespace=tuple(json.loads(metadata[_NAMESPACE])),
        created_at=datetime.fromisoformat(str(metadata["created_at"])),
        updated_at=datetime.fromisoformat(str(metadata["updated_at"])),
    )


def _search_item(item: Item, score: float | None) -> SearchItem:
    return SearchItem(
        namespace=item.namespace,
        key=item.key,
        value=item.value,
        created_at=item.created_at,
        updated_at=item.updated_at,
        score=score,
    )


def _namespace_matches(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    """LangGraph's prefix / suffix match, where ``*`` matches any one label."""
    path = tuple(condition.path)
    if not path:
        return True
    if len(path) > len(namespace):
        return False
    part = namespace[: len(path)] if condition.match_type == "prefix" else namespace[-len(path) :]
    return all(want in ("*", got) for want, got in zip(path, part, strict=True))
