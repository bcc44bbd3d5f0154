"""Actors: what an attempt is given and makes, the LLM actor, and tool-using or graph actors."""

from reflexion_graph.actors._llm import BaseActor, LLMActor
from reflexion_graph.actors._request import AttemptRequest, AttemptResult
from reflexion_graph.actors._tools import GraphActor, ToolTimeout, create_tool_actor

__all__ = [
    "AttemptRequest",
    "AttemptResult",
    "BaseActor",
    "GraphActor",
    "LLMActor",
    "ToolTimeout",
    "create_tool_actor",
]
