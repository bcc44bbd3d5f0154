"""Reflexion on LangGraph: an actor, an evaluator and a reflector joined by retry edges."""

import warnings

from reflexion_graph._records import (
    Attempt,
    Evaluation,
    FailedCheck,
    Lesson,
    Reflection,
    ToolStep,
    make_check,
    make_evaluation,
    make_lesson,
    make_reflection,
)
from reflexion_graph._usage import TokenUsage
from reflexion_graph.actors._llm import BaseActor, LLMActor
from reflexion_graph.actors._request import AttemptRequest, AttemptResult
from reflexion_graph.actors._tools import GraphActor, create_tool_actor
from reflexion_graph.errors import (
    ConfigurationError,
    InvalidTaskError,
    ModelUnavailableError,
    ReflexionGraphError,
)
from reflexion_graph.evaluators import BaseEvaluator
from reflexion_graph.graph._factory import create_reflexion_agent
from reflexion_graph.graph._state import ReflexionInput, ReflexionOutput, ReflexionState
from reflexion_graph.loop._settings import ReflexionContext, StopReason
from reflexion_graph.memory._base import BaseLessonMemory
from reflexion_graph.models import ModelSettings, create_chat_model
from reflexion_graph.reflectors._hindsight import BaseLessonWriter, HindsightWriter
from reflexion_graph.reflectors._llm import BaseReflector, LLMReflector


def __getattr__(name: str) -> object:
    """``ReflexionMiddleware`` needs langchain (the ``agents`` extra): imported on first use.

    ``BaseReflectionMemory`` is the memory contract's earlier name (``BaseLessonMemory``).
    """
    if name == "BaseReflectionMemory":
        warnings.warn(
            "reflexion_graph.BaseReflectionMemory is now BaseLessonMemory",
            DeprecationWarning,
            stacklevel=2,
        )
        return BaseLessonMemory
    if name == "ReflexionMiddleware":
        try:
            from reflexion_graph.middleware import ReflexionMiddleware
        except ImportError as error:
            raise ImportError(
                "ReflexionMiddleware needs langchain's create_agent: "
                "pip install 'reflexion-graph[agents]'"
            ) from error
        return ReflexionMiddleware
    raise AttributeError(f"module 'reflexion_graph' has no attribute {name!r}")


__all__ = [
    "Attempt",
    "AttemptRequest",
    "AttemptResult",
    "BaseActor",
    "BaseEvaluator",
    "BaseLessonMemory",
    "BaseLessonWriter",
    "BaseReflector",
    "ConfigurationError",
    "Evaluation",
    "FailedCheck",
    "GraphActor",
    "HindsightWriter",
    "InvalidTaskError",
    "LLMActor",
    "LLMReflector",
    "Lesson",
    "ModelSettings",
    "ModelUnavailableError",
    "Reflection",
    "ReflexionContext",
    "ReflexionGraphError",
    "ReflexionInput",
    "ReflexionMiddleware",
    "ReflexionOutput",
    "ReflexionState",
    "StopReason",
    "TokenUsage",
    "ToolStep",
    "create_chat_model",
    "create_reflexion_agent",
    "create_tool_actor",
    "make_check",
    "make_evaluation",
    "make_lesson",
    "make_reflection",
]
