"""Search latency of ChromaStore against LangGraph's InMemoryStore and against
``ChromaLessonMemory`` (the same Chroma, one collection, as the lesson memory queries it),
same items, same run.

Items carry 384-dimensional vectors from a cheap deterministic embedding (seeded random unit
vectors per text), so what is timed is the store, not an embedding model. Each store gets the
same items in batches of 1,000, then the same 50 semantic searches (limit 10) in a namespace
prefix holding every item, and 50 filtered searches without a query (the lesson memory has no
such search).

    .venv/bin/python benchmarks/store_bench.py [--sizes 10000 100000]

Prints a table and writes ``benchmarks/results/store.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path

import chromadb
import numpy as np
from chromadb.config import Settings
from langchain_core.embeddings import Embeddings
from langgraph.store.base import BaseStore, PutOp
from langgraph.store.memory import InMemoryStore

from reflexion_graph import make_lesson
from reflexion_graph.memory import ChromaLessonMemory
from reflexion_graph.memory._lessons import stored_metadata
from reflexion_graph.stores import ChromaStore

RESULTS = Path(__file__).with_name("results") / "store.json"
DIMS = 384


def embed(texts: list[str]) -> list[list[float]]:
    vectors = []
    for text in texts:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(DIMS)
        vectors.append((vector / np.linalg.norm(vector)).tolist())
    return vectors


INDEX = {"dims": DIMS, "embed": embed, "fields": ["text"]}


class BenchEmbeddings(Embeddings):
    """The same cheap embedding, as LangChain embeddings for the lesson memory."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return embed(texts)

    def embed_query(self, text: str) -> list[float]:
        return embed([text])[0]


def lesson_memory_row(folder: str, size: int) -> dict[str, object]:
    """``ChromaLessonMemory`` holding the same texts and vectors: fill, then ``search``."""
    memory = ChromaLessonMemory(
        path=folder, embeddings=BenchEmbeddings(), min_relevance=-1.0, max_lessons_per_scope=None
    )
    lesson = make_lesson("synthetic", task="t")
    metadata = stored_metadata({**lesson, "recalls": 1, "helped": 1}, "global")
    started = time.perf_counter()
    for start in range(0, size, 1000):
        texts = [f"lesson {n}" for n in range(start, min(size, start + 1000))]
        memory.collection_for("global").add(
            ids=[f"item{start + i}" for i in range(len(texts))],
            embeddings=embed(texts),
            documents=texts,
            metadatas=[metadata] * len(texts),
        )
    fill_s = time.perf_counter() - started
    times = []
    for n in range(50):
        started = time.perf_counter()
        memory.search(f"lesson {n}", k=10, scope="global")
        times.append((time.perf_counter() - started) * 1000)
    return {
        "store": "ChromaLessonMemory",
        "items": size,
        "fill_s": round(fill_s, 1),
        "semantic_search_ms": round(statistics.median(times), 1),
        "filtered_search_ms": None,
    }


def fill(store: BaseStore, size: int) -> float:
    started = time.perf_counter()
    for start in range(0, size, 1000):
        store.batch(
            [
                PutOp(("bench", f"team{n % 10}"), f"item{n}", {"text": f"lesson {n}", "n": n % 7})
                for n in range(start, min(size, start + 1000))
            ]
        )
    return time.perf_counter() - started


def timed(store: BaseStore, **search: object) -> float:
    times = []
    for n in range(50):
        started = time.perf_counter()
        store.search(
            ("bench",),
            limit=10,
            **{k: (f"{v} {n}" if k == "query" else v) for k, v in search.items()},
        )
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            client = chromadb.PersistentClient(
                path=folder, settings=Settings(anonymized_telemetry=False)
            )
            stores = {
                "InMemoryStore": InMemoryStore(index=INDEX),
                "ChromaStore": ChromaStore(client, index=INDEX),
            }
            for name, store in stores.items():
                rows.append(
                    {
                        "store": name,
                        "items": size,
                        "fill_s": round(fill(store, size), 1),
                        "semantic_search_ms": round(timed(store, query="lesson"), 1),
                        "filtered_search_ms": round(timed(store, filter={"n": 3}), 1),
                    }
                )
                print(rows[-1], flush=True)
        with tempfile.TemporaryDirectory() as folder:
            rows.append(lesson_memory_row(folder, size))
            print(rows[-1], flush=True)
    print("| store | items | fill (s) | semantic search, median ms | filtered search, median ms |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['store']} | {row['items']} | {row['fill_s']} | {row['semantic_search_ms']} | "
            f"{row['filtered_search_ms'] or '-'} |"
        )
    RESULTS.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
