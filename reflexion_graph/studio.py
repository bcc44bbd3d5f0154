"""The graphs that ``langgraph dev`` / LangGraph Studio serves (see ``langgraph.json``).

``graph`` is the Reflexion graph; ``agent`` is a LangChain ``create_agent`` agent with
:class:`ReflexionMiddleware`, judged the same way and keeping lessons in the same store.

Free-form tasks are judged by an LLM judge on the same model; lessons live in the server's
store, whose semantic index uses the offline MiniLM ``embeddings`` below (no network).
Set ``REFLEXION_GRAPH_BASE_URL`` (and ``_MODEL``) to serve another model.

Importing this module starts nothing. ``graph`` is a factory that LangGraph Server calls inside
its event loop, for every request that needs the graph (drawing it, its schemas, a run): it
builds the graph once per process without blocking, and the embedded model server starts on
the first model request, in a worker thread (``create_chat_model(lazy=True)``).
"""

from __future__ import annotations

import functools
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from reflexion_graph.evaluators import LLMJudge
from reflexion_graph.graph._factory import create_reflexion_agent
from reflexion_graph.memory import MiniLMEmbeddings, StoreLessonMemory
from reflexion_graph.models import create_chat_model

embeddings = MiniLMEmbeddings()
"""The store's embedding model (``langgraph.json`` → ``store.index.embed``); loads lazily."""


def graph(config: RunnableConfig) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The served graph, built on first use (LangGraph Server's graph-factory form)."""
    return _build()


def agent(config: RunnableConfig) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The served ``create_agent`` agent with Reflexion as middleware, built on first use."""
    return _build_agent()


@functools.cache
def _build_agent() -> CompiledStateGraph[Any, Any, Any, Any]:
    from langchain.agents import create_agent

    from reflexion_graph.middleware import ReflexionMiddleware

    model = create_chat_model(lazy=True)
    middleware = ReflexionMiddleware(evaluator=LLMJudge(model), model=model, max_attempts=2)
    return create_agent(model, middleware=[middleware], name="reflexion_agent")


@functools.cache
def _build() -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compiled without a checkpointer: the server brings its own, and its own store."""
    model = create_chat_model(lazy=True)
    return create_reflexion_agent(
        model, evaluator=LLMJudge(model), memory=StoreLessonMemory(), name="reflexion"
    )
