"""The graph that ``langgraph dev`` / LangGraph Studio serves (see ``langgraph.json``).

Free-form tasks are judged by an LLM judge on the same model; lessons live in the server's
store, whose semantic index uses the offline MiniLM ``embeddings`` below (no network).
Set ``REFLEXION_GRAPH_BASE_URL`` (and ``_MODEL``) to serve another model.
"""

from reflexion_graph._graph import create_reflexion_agent
from reflexion_graph.evaluators import LLMJudge
from reflexion_graph.memory import MiniLMEmbeddings, StoreReflectionMemory
from reflexion_graph.models import create_chat_model

embeddings = MiniLMEmbeddings()
"""The store's embedding model (``langgraph.json`` → ``store.index.embed``)."""

_model = create_chat_model()
graph = create_reflexion_agent(
    _model, evaluator=LLMJudge(_model), memory=StoreReflectionMemory(), name="reflexion"
)
"""Compiled without a checkpointer: the server brings its own, and its own store."""
