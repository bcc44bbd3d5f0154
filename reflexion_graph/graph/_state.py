"""Graph state and its input/output schemas (the run's settings: ``reflexion_graph.loop``)."""

from __future__ import annotations

import operator
from typing import Annotated, NotRequired

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict

from reflexion_graph._records import Attempt, Lesson, Reflection, ToolStep
from reflexion_graph._usage import TokenUsage, add_usage
from reflexion_graph.loop._settings import StopReason

_DOCUMENTED = ConfigDict(use_attribute_docstrings=True)
"""Field docstrings become JSON-schema descriptions (Studio's input and output forms)."""


@with_config(_DOCUMENTED)
class ReflexionInput(TypedDict):
    """What a run starts from: a task, or a chat whose last human message is the task."""

    task: NotRequired[str]
    """The task to solve. Falls back to the last human message in ``messages``."""
    messages: NotRequired[Annotated[list[AnyMessage], add_messages]]
    """Chat history, for chat UIs and LangGraph Studio."""


@with_config(_DOCUMENTED)
class ReflexionOutput(TypedDict):
    """What a run returns."""

    task: str
    messages: Annotated[list[AnyMessage], add_messages]
    attempts: Annotated[list[Attempt], operator.add]
    """Every attempt with its verdict, in order."""
    reflections: Annotated[list[Reflection], operator.add]
    """Lessons written during this run, with their outcome."""
    recalled: list[Lesson]
    """Lessons from earlier tasks that the actor saw."""
    learned: list[Lesson]
    """Hindsight lessons this run wrote, each with its replay verdict (``replay``: ``passed``,
    ``failed``, ``refused`` for one that gives the solution away, or ``off``)."""
    stored: list[Lesson]
    """The lessons this run gave long-term memory (as approved); none without a memory."""
    best: Attempt | None
    """The highest-scoring attempt (a pass beats any score; earlier wins ties)."""
    stop_reason: StopReason | None
    """Why the run stopped: passed, max_attempts, token_budget or plateau."""
    usage: Annotated[TokenUsage, add_usage]
    """Tokens and model calls spent by the run."""


class ReflexionState(ReflexionOutput):
    """Full working state of the graph."""

    answer: str
    """The answer of the attempt in progress, before it is judged."""
    steps: list[ToolStep]
    """The tool calls of the attempt in progress."""
