"""Durable runs: a SQLite checkpoint lets a crashed run resume where it stopped.

    python examples/resume_after_crash.py runs.sqlite my-thread

Run it, kill it (Ctrl-C, kill -9, a crash) after the first attempt, and run the same command
again: it resumes from the last finished step instead of redoing the attempts it already made.
``durability="sync"`` checkpoints each step before the next starts (LangGraph's default,
"async", may lose the last step on a hard kill and redo it).
"""

import sqlite3
import sys

from langgraph.checkpoint.sqlite import SqliteSaver

from reflexion_graph import ReflexionContext, create_reflexion_agent
from reflexion_graph.evaluators import CodeTestEvaluator

TASK = "Write a Python function solve() that returns the secret code string."
TESTS = "assert solve() == 'code-8f3a-unknowable'"  # never solvable: every attempt is made


def main(database: str, thread_id: str) -> None:
    connection = sqlite3.connect(database, check_same_thread=False)
    agent = create_reflexion_agent(
        evaluator=CodeTestEvaluator(TESTS), checkpointer=SqliteSaver(connection)
    )
    config = {"configurable": {"thread_id": thread_id}}
    context = ReflexionContext(max_attempts=3)
    pending = agent.get_state(config)
    if pending.next:  # an unfinished run on this thread: resume it
        done = len(pending.values.get("attempts", []))
        print(f"resuming after attempt {done}", flush=True)
        result = agent.invoke(None, config, context=context, durability="sync")
    else:
        print("starting", flush=True)
        result = agent.invoke({"task": TASK}, config, context=context, durability="sync")
    print(f"finished: {len(result['attempts'])} attempts, stop reason {result['stop_reason']}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
