"""The LangGraph wiring: the graph factory, and the run's state, schemas and context."""

from reflexion_graph.graph._factory import create_reflexion_agent
from reflexion_graph.graph._state import (
    ReflexionContext,
    ReflexionInput,
    ReflexionOutput,
    ReflexionState,
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
