"""Memory benchmark: retrieval quality (recall@3) and add/search latency at 1k-100k lessons.

Prints a table and writes ``benchmarks/results/memory.json``. Quality compares the default
MiniLM embeddings with a hashing bag-of-words baseline in the same run, on the same lessons.
Latency fills Chroma with synthetic unit vectors (the store's cost does not depend on how a
vector was made) and times the real code paths: ``save`` and ``search`` of
:class:`ChromaLessonMemory`: a task's first search (its query embedded, every text new) and
the same run's next search of that task (the embedding kept).

    .venv/bin/python benchmarks/memory_bench.py [--sizes 1000 10000 100000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from reflexion_graph import make_lesson
from reflexion_graph.memory import ChromaLessonMemory, MiniLMEmbeddings
from reflexion_graph.memory._lessons import stored_metadata

RESULTS = Path(__file__).with_name("results") / "memory.json"

# (task a lesson was learned on, [paraphrases or closely related tasks that should recall it])
GROUPS = [
    (
        "Write a Python function that reverses a string.",
        [
            "Implement a function returning the given text backwards.",
            "Return the input string in reverse order.",
        ],
    ),
    (
        "Write a function that checks whether a number is prime.",
        [
            "Determine if an integer has no divisors other than 1 and itself.",
            "Implement is_prime(n) returning True for primes.",
        ],
    ),
    (
        "Compute the factorial of n recursively.",
        ["Return n! for a non-negative integer n.", "Multiply all positive integers up to n."],
    ),
    (
        "Count the vowels in a sentence.",
        [
            "How many of the characters in s are a, e, i, o or u?",
            "Return the number of vowel letters in a string.",
        ],
    ),
    (
        "Sort a list of dictionaries by the 'age' key.",
        [
            "Order records by their age field.",
            "Given people as dicts, sort them from youngest to oldest.",
        ],
    ),
    (
        "Parse a date string like 2024-01-31 into year, month and day.",
        [
            "Split an ISO date into its integer components.",
            "Extract the year, month and day from 'YYYY-MM-DD'.",
        ],
    ),
    (
        "Find the largest number in a list.",
        ["Return the maximum element of a non-empty list.", "Which value in xs is the biggest?"],
    ),
    (
        "Merge two sorted lists into one sorted list.",
        [
            "Combine two ascending arrays keeping the result ordered.",
            "Implement the merge step of merge sort.",
        ],
    ),
    (
        "Check whether a string is a palindrome.",
        [
            "Does the word read the same forwards and backwards?",
            "Return True if s equals its reverse, ignoring case.",
        ],
    ),
    (
        "Compute the n-th Fibonacci number.",
        [
            "Return F(n) where F(0)=0 and F(1)=1.",
            "Generate the Fibonacci sequence and give its n-th term.",
        ],
    ),
    (
        "Convert a temperature from Celsius to Fahrenheit.",
        ["Turn degrees C into degrees F.", "Implement c_to_f(c) using 9/5 * c + 32."],
    ),
    (
        "Remove duplicate items from a list while keeping order.",
        [
            "Deduplicate a sequence, preserving first occurrences.",
            "Return the unique elements of xs in their original order.",
        ],
    ),
    (
        "What is the capital city of France?",
        ["Name the capital of France.", "Which city is France's seat of government?"],
    ),
    (
        "How many days are there in a leap year?",
        [
            "Count the days of a year with February 29.",
            "What is the length in days of a leap year?",
        ],
    ),
    (
        "Count the words in a paragraph of text.",
        [
            "Return how many whitespace-separated tokens a string has.",
            "Compute the word count of a sentence.",
        ],
    ),
]


class HashingBagOfWords(Embeddings):
    """The baseline: hashed, L2-normalised word counts (no semantics)."""

    def __init__(self, dims: int = 384) -> None:
        self.dims = dims

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        vector = np.zeros(self.dims, dtype=np.float32)
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dims] += 1.0
        norm = np.linalg.norm(vector)
        return (vector / norm if norm else vector).tolist()


def recall_at_3(embeddings: Embeddings) -> float:
    with tempfile.TemporaryDirectory() as folder:
        memory = ChromaLessonMemory(
            path=folder, embeddings=embeddings, min_relevance=-1.0, duplicate_similarity=1.01
        )
        ids = {}
        for index, (task, _) in enumerate(GROUPS):
            lesson = make_lesson(f"lesson {index}", task=task)
            memory.save([lesson], scope="global")
            ids[task] = lesson["id"]
        hits = total = 0
        for task, queries in GROUPS:
            for query in queries:
                found = [r["id"] for r in memory.search(query, k=3, scope="global")]
                hits += ids[task] in found
                total += 1
        return hits / total


def passed_lesson_metadata(task: str) -> dict[str, object]:
    """What the memory itself stores for a lesson whose retry passed."""
    lesson = make_lesson("synthetic", task=task)
    return stored_metadata({**lesson, "recalls": 1, "helped": 1}, "global")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def latency(size: int, embeddings: MiniLMEmbeddings, queries: int) -> dict[str, float]:
    rng = np.random.default_rng(size)
    with tempfile.TemporaryDirectory() as folder:
        memory = ChromaLessonMemory(path=folder, embeddings=embeddings, max_lessons_per_scope=None)
        started = time.perf_counter()
        for start in range(0, size, 5000):
            count = min(5000, size - start)
            vectors = rng.normal(size=(count, 384)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            memory.collection_for("global").add(
                ids=[f"synthetic-{start + i}" for i in range(count)],
                embeddings=vectors.tolist(),
                documents=[f"synthetic lesson {start + i}" for i in range(count)],
                metadatas=[passed_lesson_metadata(f"t{start + i}") for i in range(count)],
            )
        fill_s = time.perf_counter() - started
        search_ms, repeat_ms, embed_ms, add_ms = [], [], [], []
        tasks = [q for _, group in GROUPS for q in group]
        for task in tasks:  # warm-up: Chroma folds its write log into the index on first reads
            memory.search(task, k=3, scope="global")
        for i in range(queries):  # each text new, so its embedding is computed, not kept
            task = f"{tasks[i % len(tasks)]} (case {i})"
            t0 = time.perf_counter()
            embeddings.embed_query(f"{task}.")
            embed_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            memory.search(task, k=3, scope="global")
            search_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            memory.search(task, k=3, scope="global")  # the run's next recall: embedding kept
            repeat_ms.append((time.perf_counter() - t0) * 1000)
        for i in range(max(queries // 4, 20)):
            lesson = make_lesson(
                f"new lesson {i} about {tasks[i % len(tasks)]}", task=tasks[i % len(tasks)]
            )
            t0 = time.perf_counter()
            memory.save([{**lesson, "recalls": 1, "helped": 1}], scope="global")
            add_ms.append((time.perf_counter() - t0) * 1000)
    (s50, s99), (r50, r99), (e50, e99), (a50, a99) = (
        percentiles(x) for x in (search_ms, repeat_ms, embed_ms, add_ms)
    )
    return {
        "size": size,
        "fill_s": round(fill_s, 1),
        "search_p50_ms": round(s50, 2),
        "search_p99_ms": round(s99, 2),
        "repeat_search_p50_ms": round(r50, 2),
        "repeat_search_p99_ms": round(r99, 2),
        "query_embed_p50_ms": round(e50, 2),
        "query_embed_p99_ms": round(e99, 2),
        "add_p50_ms": round(a50, 2),
        "add_p99_ms": round(a99, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    embeddings = MiniLMEmbeddings()
    quality = {
        "minilm_recall_at_3": recall_at_3(embeddings),
        "hashing_bow_recall_at_3": recall_at_3(HashingBagOfWords()),
        "queries": sum(len(q) for _, q in GROUPS),
        "lessons": len(GROUPS),
    }
    print("\nRetrieval quality (recall@3, same lessons and queries)")
    print("| embeddings | recall@3 |\n|---|---|")
    print(f"| all-MiniLM-L6-v2 (ours, default) | {quality['minilm_recall_at_3']:.3f} |")
    print(f"| hashing bag-of-words (baseline) | {quality['hashing_bow_recall_at_3']:.3f} |")

    rows = [latency(size, embeddings, args.queries) for size in args.sizes]
    print("\nLatency (ms; a first search includes embedding the query, a repeat reuses it)")
    print("| lessons | search p50 | search p99 | repeat p50 | repeat p99 | query embed p50 | "
          "query embed p99 | add p50 | add p99 |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['size']:,} | {row['search_p50_ms']} | {row['search_p99_ms']} | "
            f"{row['repeat_search_p50_ms']} | {row['repeat_search_p99_ms']} | "
            f"{row['query_embed_p50_ms']} | {row['query_embed_p99_ms']} | "
            f"{row['add_p50_ms']} | {row['add_p99_ms']} |"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"quality": quality, "latency": rows}, indent=2))
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
