"""Graph overhead: the Reflexion graph with a zero-latency model and a trivial evaluator vs. a
plain Python loop making the same component calls, and a bare LangGraph graph of no-op nodes
(the floor), in one run; with and without memory, no checkpointer. Without memory also
``create_agent`` with ``ReflexionMiddleware`` on the same model, evaluator and reflector.

Prints a table and writes ``benchmarks/results/overhead.json``. With ``--baseline-ref REV``
it instead measures this tree and REV (checked out into a temporary git worktree) in turns,
each in a fresh process, ``--rounds`` times, and writes ``overhead-vs-baseline.json``.

    .venv/bin/python benchmarks/overhead_bench.py [--runs 300] [--baseline-ref REV --rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from reflexion_graph import (
    AttemptRequest,
    BaseLessonMemory,
    Lesson,
    LLMActor,
    LLMReflector,
    Reflection,
    ReflexionContext,
    create_reflexion_agent,
    make_evaluation,
)
from reflexion_graph.loop._policy import lesson_of_failure

RESULTS = Path(__file__).with_name("results") / "overhead.json"
ATTEMPTS = 3


class InstantModel(BaseChatModel):
    """Answers at once: "wrong" until the third call of a cycle, then "right"."""

    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "instant"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        self.calls += 1
        text = "right" if self.calls % ATTEMPTS == 0 else "wrong"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])


class ListMemory(BaseLessonMemory):
    def __init__(self) -> None:
        self.lessons: list[Lesson] = []

    def search(self, task: str, *, k: int, scope: str) -> list[Lesson]:
        return self.lessons[-k:]

    def save(self, lessons: Sequence[Lesson], *, scope: str) -> int:
        self.lessons = (self.lessons + list(lessons))[-10:]
        return len(lessons)

    def record_usage(self, ids: Sequence[str], *, passed: bool, scope: str) -> None:
        return None


def evaluator(task: str, answer: str) -> Any:
    return make_evaluation(answer == "right", feedback="" if answer == "right" else "wrong")


def plain_loop(actor: LLMActor, reflector: LLMReflector, memory: ListMemory | None) -> None:
    """The same component calls as one run of the graph, without LangGraph."""
    lessons = memory.search("t", k=3, scope="global") if memory else []
    reflections: list[Reflection] = []
    for number in range(1, ATTEMPTS + 1):
        request = AttemptRequest(task="t", lessons=lessons, reflections=reflections[-3:])
        answer = actor.attempt(request.override(number=number))
        verdict = evaluator("t", answer)
        if verdict["passed"]:
            break
        attempt = {"number": number, "answer": answer, "evaluation": verdict}
        reflections.append(reflector.reflect("t", attempt))  # type: ignore[arg-type]
    if memory:
        memory.save([lesson_of_failure(r) for r in reflections], scope="global")


def bare_graph() -> Callable[[], Any]:
    """No-op nodes in the same shape and step count: LangGraph's own cost."""

    class State(TypedDict):
        n: int

    builder = StateGraph(State)
    for name in ("recall", "actor", "evaluate", "finalize"):
        builder.add_node(name, lambda state: {"n": state["n"]})
    builder.add_node("reflect", lambda state: {"n": state["n"] + 1})
    builder.add_edge(START, "recall")
    builder.add_edge("recall", "actor")
    builder.add_edge("actor", "evaluate")
    builder.add_conditional_edges(
        "evaluate",
        lambda s: "finalize" if s["n"] >= ATTEMPTS else "reflect",
        {"reflect": "reflect", "finalize": "finalize"},
    )
    builder.add_edge("reflect", "actor")
    builder.add_edge("finalize", END)
    graph = builder.compile()
    return lambda: graph.invoke({"n": 1})


def per_run_ms(run: Callable[[], Any], runs: int) -> float:
    for _ in range(20):
        run()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(with_memory: bool, runs: int) -> dict[str, Any]:
    model = InstantModel()
    actor, reflector = LLMActor(model), LLMReflector(model)
    memory = ListMemory() if with_memory else None
    graph = create_reflexion_agent(
        evaluator=evaluator, actor=actor, reflector=reflector, memory=memory
    )
    context = ReflexionContext(max_attempts=ATTEMPTS)
    graph_ms = per_run_ms(lambda: graph.invoke({"task": "t"}, context=context), runs)
    model.calls = 0
    loop_ms = per_run_ms(lambda: plain_loop(actor, reflector, memory), runs)
    row = {
        "memory": with_memory,
        "graph_ms_per_run": round(graph_ms, 3),
        "plain_loop_ms_per_run": round(loop_ms, 3),
        "overhead_ms_per_attempt": round((graph_ms - loop_ms) / ATTEMPTS, 3),
        "ratio": round(graph_ms / loop_ms, 2),
    }
    if not with_memory:
        model.calls = 0
        middleware_ms = per_run_ms(middleware_agent(model, reflector), runs)
        row["middleware_ms_per_run"] = round(middleware_ms, 3)
        row["middleware_overhead_ms_per_attempt"] = round((middleware_ms - loop_ms) / ATTEMPTS, 3)
    return row


def middleware_agent(model: InstantModel, reflector: LLMReflector) -> Callable[[], Any]:
    """``create_agent`` with the middleware: the same calls, through LangChain's agent."""
    from langchain.agents import create_agent
    from langchain_core.messages import HumanMessage

    from reflexion_graph import ReflexionMiddleware

    middleware = ReflexionMiddleware(
        evaluator=evaluator, reflector=reflector, max_attempts=ATTEMPTS
    )
    agent = create_agent(model, middleware=[middleware])
    return lambda: agent.invoke({"messages": [HumanMessage("t")]})


def compare(baseline_ref: str, runs: int, rounds: int) -> None:
    """This tree against ``baseline_ref``, in turns, each run of this script in its own tree."""
    root = Path(__file__).resolve().parents[1]
    trees: dict[str, list[dict[str, Any]]] = {baseline_ref: [], "this tree": []}
    with tempfile.TemporaryDirectory() as folder:
        worktree = Path(folder) / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(worktree), baseline_ref],
                       cwd=root, check=True, capture_output=True)  # fmt: skip
        try:
            for _ in range(rounds):
                for name, tree in ((baseline_ref, worktree), ("this tree", root)):
                    trees[name].append(_run_in(tree, runs))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=root)
    print("| code | graph ms/attempt over the loop (no memory, memory) | middleware ms/attempt |")
    print("|---|---|---|")
    summary = {}
    for name, results in trees.items():
        graph = [[row["overhead_ms_per_attempt"] for row in r["rows"]] for r in results]
        agent = [r["rows"][0]["middleware_overhead_ms_per_attempt"] for r in results]
        summary[name] = {"graph_overhead_ms_per_attempt": graph, "middleware_ms": agent}
        print(f"| {name} | {graph} | {agent} |")
    out = RESULTS.with_name("overhead-vs-baseline.json")
    out.write_text(json.dumps({"runs": runs, "rounds": rounds, "trees": summary}, indent=2))
    print(f"wrote {out}")


def _run_in(tree: Path, runs: int) -> dict[str, Any]:
    """One run of the tree's own copy of this script, in a fresh process; its results."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    script = tree / "benchmarks" / "overhead_bench.py"
    subprocess.run([sys.executable, str(script), "--runs", str(runs)], cwd=tree, env=env,
                   check=True, capture_output=True)  # fmt: skip
    results: dict[str, Any] = json.loads((tree / "benchmarks/results/overhead.json").read_text())
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--baseline-ref", help="measure this tree against this git ref")
    parser.add_argument("--rounds", type=int, default=2, help="turns of each tree (baseline)")
    args = parser.parse_args()
    if args.baseline_ref:
        compare(args.baseline_ref, args.runs, args.rounds)
        return
    floor_ms = per_run_ms(bare_graph(), args.runs)
    rows = [measure(False, args.runs), measure(True, args.runs)]
    floor_per_attempt = floor_ms / ATTEMPTS
    print(
        f"bare LangGraph floor: {floor_ms:.3f} ms per run "
        f"({floor_per_attempt:.3f} ms per attempt, {ATTEMPTS} attempts)"
    )
    print("| memory | graph ms/run | plain loop ms/run | overhead ms/attempt | ratio |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['memory']} | {row['graph_ms_per_run']} | {row['plain_loop_ms_per_run']} "
            f"| {row['overhead_ms_per_attempt']} | {row['ratio']}x |"
        )
    plain = rows[0]
    print(
        f"create_agent + ReflexionMiddleware (no memory): {plain['middleware_ms_per_run']} ms/run, "
        f"{plain['middleware_overhead_ms_per_attempt']} ms/attempt over the plain loop"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "attempts_per_run": ATTEMPTS,
                "bare_graph_ms_per_run": round(floor_ms, 3),
                "rows": rows,
            },
            indent=2,
        )
    )
    print(f"wrote {RESULTS} (target: overhead under 2 ms per attempt)")


if __name__ == "__main__":
    main()
