"""The LangGraph wiring: the graph factory, its nodes, state and schemas (the loop: ``loop``)."""

from reflexion_graph.graph._factory import create_reflexion_agent
from reflexion_graph.graph._state import ReflexionInput, ReflexionOutput, ReflexionState
from reflexion_graph.loop._settings import (
    ReflexionContext,
    RememberPolicy,
    RetryContext,
    StopReason,
)

__all__ = [
    "ReflexionContext",
    "ReflexionInput",
    "ReflexionOutput",
    "ReflexionState",
    "RememberPolicy",
    "RetryContext",
    "StopReason",
    "create_reflexion_agent",
]
