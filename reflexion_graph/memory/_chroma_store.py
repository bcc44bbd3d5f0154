"""Chroma as a LangGraph ``BaseStore``: items, namespaces and semantic search in one Chroma.

Items live in one collection (the value as a JSON document; the namespace, one metadata field
per label, so a prefix is a metadata filter). Their embeddings live in a second collection, one
vector per indexed field, so an item is found by its best-matching field (max pooling), as in
LangGraph's own stores. Value filters (``{"field": value}`` or ``{"field": {"$gt": 3}}``) are
applied here, after Chroma narrowed the candidates by namespace. TTLs are not supported.
"""

from __future__ import annotations

import asyncio
import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from reflexion_graph.memory._chroma_query import query_nearest

_NAMESPACE = "namespace"
_VALUE = "v."
_CHUNK = 2000  # records per Chroma call, below its maximum batch size
_LABEL = "ns{}"  # metadata field of the label at a depth: ns0, ns1, ...
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": operator.eq,
    "$ne": operator.ne,
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}


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
        """Apply puts (one per key) in a few bulk calls: deletes, then upserts, then vectors."""
        for start in range(0, len(puts), _CHUNK):
            self._put_chunk(puts[start : start + _CHUNK])

    def _put_chunk(self, puts: Sequence[PutOp]) -> None:
        ids = [_item_id(op.namespace, op.key) for op in puts]
        self.vectors.delete(where={"item": {"$in": ids}})
        gone = [item_id for item_id, op in zip(ids, puts, strict=True) if op.value is None]
        if gone:
            self.items.delete(ids=gone)
        kept = [
            (item_id, op) for item_id, op in zip(ids, puts, strict=True) if op.value is not None
        ]
        if not kept:
            return
        existing = self.items.get(ids=[item_id for item_id, _ in kept], include=["metadatas"])
        created = {
            item_id: str(metadata["created_at"])
            for item_id, metadata in zip(existing["ids"], existing["metadatas"], strict=True)
        }
        now = datetime.now(UTC).isoformat()
        texts = {item_id: self._texts(op) for item_id, op in kept}
        labels = {
            item_id: {**_namespace_metadata(op.namespace), **_value_metadata(op.value or {})}
            for item_id, op in kept
        }
        self.items.upsert(
            ids=[item_id for item_id, _ in kept],
            embeddings=[[1.0]] * len(kept),  # Chroma keeps a vector per record; unused here
            documents=[json.dumps(dict(op.value or {}), ensure_ascii=False) for _, op in kept],
            metadatas=[
                {
                    **labels[item_id],
                    "key": op.key,
                    "created_at": created.get(item_id, now),
                    "updated_at": now,
                    "indexed": bool(texts[item_id]),
                }
                for item_id, op in kept
            ],
        )
        fields = [(item_id, path, text) for item_id, _ in kept for path, text in texts[item_id]]
        if fields and self.embeddings is not None:
            vectors = self.embeddings.embed_documents([text for *_, text in fields])
            self.vectors.add(
                ids=[f"{item_id}|{path}" for item_id, path, _ in fields],
                embeddings=[list(vector) for vector in vectors],
                metadatas=[
                    {**labels[item_id], "item": item_id, "path": path}
                    for item_id, path, _ in fields
                ],
            )

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
        """Filters on plain top-level fields run in Chroma; the rest, and pooling, run here."""
        pushed, rest = _split_filter(op.filter)
        where = _where([*_prefix_conditions(op.namespace_prefix), *pushed])
        wanted = op.offset + op.limit
        if not (op.query and self.embeddings is not None):
            if not rest:  # Chroma pages itself (insertion order, as InMemoryStore)
                page = self._items(where=where, limit=op.limit, offset=op.offset)
                return [_search_item(item, None) for item in page]
            matching = [i for i in self._items(where=where) if _matches(i.value, rest)]
            return [_search_item(item, None) for item in matching[op.offset : wanted]]
        ranked = self._ranked(op.query, where, rest, wanted)
        if len(ranked) < wanted:  # as LangGraph: items without vectors come after the scored
            unindexed = _where(
                [*_prefix_conditions(op.namespace_prefix), *pushed, {"indexed": False}]
            )
            extra = [i for i in self._items(where=unindexed) if _matches(i.value, rest)]
            ranked += [_search_item(item, None) for item in extra[: wanted - len(ranked)]]
        return ranked[op.offset : wanted]

    def _ranked(
        self, query: str, where: dict[str, Any] | None, rest: Mapping[str, Any], wanted: int
    ) -> list[SearchItem]:
        """The ``wanted`` best items by their best field's cosine similarity to ``query``."""
        if self.embeddings is None:
            return []
        vector = self.embeddings.embed_query(query)
        total = self.vectors.count()
        n = min(total, max(4 * wanted, 20))
        while n:
            found = query_nearest(
                self.vectors,
                query_embeddings=[vector],
                n_results=n,
                where=where,
                include=["metadatas", "distances"],
            )
            best: dict[str, float] = {}
            for metadata, distance in zip(
                found["metadatas"][0], found["distances"][0], strict=True
            ):
                best.setdefault(str(metadata["item"]), 1.0 - float(distance))  # nearest first
            matched = self._items(ids=list(best)) if best else []  # Chroma refuses ids=[]
            items = {_item_id(i.namespace, i.key): i for i in matched}
            ranked = [
                _search_item(items[item_id], score)
                for item_id, score in best.items()
                if item_id in items and _matches(items[item_id].value, rest)
            ]
            if len(ranked) >= wanted or n >= total or len(found["metadatas"][0]) < n:
                return ranked
            n = min(total, n * 4)
        return []

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


def _where(conditions: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def _value_metadata(value: Mapping[str, Any]) -> dict[str, Any]:
    """Plain top-level fields, so Chroma can filter on them (``v.<field>``)."""
    return {
        f"{_VALUE}{field}": item
        for field, item in value.items()
        if isinstance(item, str | int | float | bool)
    }


def _split_filter(
    conditions: Mapping[str, Any] | None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The conditions Chroma can apply, and the rest (applied here).

    Chroma takes comparisons with plain values, but not ``$ne``: a missing field matches it.
    """
    pushed: list[dict[str, Any]] = []
    rest: dict[str, Any] = {}
    for field, expected in (conditions or {}).items():
        if isinstance(expected, str | int | float | bool):
            pushed.append({f"{_VALUE}{field}": expected})
        elif (
            isinstance(expected, Mapping)
            and expected
            and all(
                name in _COMPARISONS and name != "$ne" and isinstance(x, str | int | float | bool)
                for name, x in expected.items()
            )
        ):
            pushed += [{f"{_VALUE}{field}": {name: x}} for name, x in expected.items()]
        else:
            rest[field] = expected
    return pushed, rest


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


def _matches(value: Mapping[str, Any], conditions: Mapping[str, Any] | None) -> bool:
    """Whether ``value`` meets every ``{field: expected}`` or ``{field: {"$op": x}}``."""
    for field, expected in (conditions or {}).items():
        actual = value.get(field)
        if isinstance(expected, Mapping) and expected and all(k in _COMPARISONS for k in expected):
            try:
                if not all(_COMPARISONS[name](actual, x) for name, x in expected.items()):
                    return False
            except TypeError:  # e.g. None > 3: not a match
                return False
        elif actual != expected:
            return False
    return True


def _namespace_matches(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    """LangGraph's prefix / suffix match, where ``*`` matches any one label."""
    path = tuple(condition.path)
    if not path:
        return True
    if len(path) > len(namespace):
        return False
    part = namespace[: len(path)] if condition.match_type == "prefix" else namespace[-len(path) :]
    return all(want in ("*", got) for want, got in zip(path, part, strict=True))
