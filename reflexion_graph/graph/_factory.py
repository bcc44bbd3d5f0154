"""The Reflexion graph: recall, then actor and evaluate until done, then what it learnt."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode
from langgraph.pregel import Pregel
from langgraph.store.base import BaseStore
from langgraph.types import Checkpointer, RetryPolicy

from reflexion_graph._twin_node import TwinNode
from reflexion_graph.actors._llm import BaseActor, LLMActor
from reflexion_graph.actors._tools import GraphActor, ToolLike, create_tool_actor
from reflexion_graph.episodes import EpisodeLog
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.evaluators import BaseEvaluator, EvaluatorFunction, as_evaluator
from reflexion_graph.graph._nodes import ReflexionNodes, route_after_evaluate
from reflexion_graph.graph._remember import RememberNodes
from reflexion_graph.graph._state import ReflexionInput, ReflexionOutput, ReflexionState
from reflexion_graph.loop._hindsight import Hindsight
from reflexion_graph.loop._settings import ReflexionContext
from reflexion_graph.memory._base import BaseLessonMemory
from reflexion_graph.models import create_chat_model, model_id
from reflexion_graph.reflectors._hindsight import BaseLessonWriter, HindsightWriter
from reflexion_graph.reflectors._llm import BaseReflector, LLMReflector

MODEL_RETRY_POLICY = RetryPolicy(max_attempts=3, initial_interval=1.0)
"""Retries model-calling nodes on transient errors (connection drops, 5xx)."""


def create_reflexion_agent(
    model: BaseChatModel | None = None,
    *,
    evaluator: BaseEvaluator | EvaluatorFunction,
    actor: BaseActor | Pregel[Any, Any, Any, Any] | None = None,
    tools: Sequence[ToolLike] | ToolNode | None = None,
    reflector: BaseReflector | None = None,
    lesson_writer: BaseLessonWriter | None = None,
    memory: BaseLessonMemory | None = None,
    checkpointer: Checkpointer = None,
    store: BaseStore | None = None,
    episode_log: EpisodeLog | None = None,
    name: str = "reflexion",
) -> CompiledStateGraph[ReflexionState, ReflexionContext, ReflexionInput, ReflexionOutput]:
    """Build the compiled Reflexion graph.

    Args:
        model: Chat model for the default actor and reflector. ``None`` starts the embedded
            local model (or the endpoint configured by ``REFLEXION_GRAPH_*`` variables).
        evaluator: Judges each attempt: a :class:`BaseEvaluator` or ``(task, answer) -> bool |
            score | Evaluation``.
        actor: Makes the attempts: a :class:`BaseActor`, or any compiled graph with a
            ``messages`` channel; defaults to :class:`LLMActor` on ``model``.
        tools: Functions, ``BaseTool``s or your own ``ToolNode``: the actor becomes a
            tool-calling loop on ``model`` (see :func:`create_tool_actor`).
        reflector: Writes lessons after failures; defaults to :class:`LLMReflector`.
        lesson_writer: Writes the cross-task lesson in hindsight, once a failed task has
            passed; defaults to :class:`HindsightWriter` on the reflector's model.
        memory: Long-term lesson store shared across tasks; ``None`` keeps lessons in the run.
        checkpointer: LangGraph checkpointer, for threads and resuming interrupted runs.
        store: LangGraph store handed to the compiled graph.
        episode_log: Where finished runs are appended as episodes (training data).
        name: Graph name (shown in Studio and when used as a sub-graph).

    Per-run settings (attempts, reflection window, memory scope...) go in ``context=``
    as a :class:`ReflexionContext`.
    """
    checked_evaluator = as_evaluator(evaluator)
    if actor is not None and tools is not None:
        raise ConfigurationError("give either an actor or tools, not both")
    if isinstance(actor, Pregel):
        actor = GraphActor(actor)
    if actor is None or reflector is None:
        if model is None:
            model = create_chat_model()
        if actor is None:
            actor = create_tool_actor(model, tools) if tools is not None else LLMActor(model)
        reflector = reflector or LLMReflector(model)
    model_name = model_id(model if model is not None else getattr(actor, "model", actor))
    nodes = ReflexionNodes(actor, checked_evaluator, reflector, memory, name=name)
    writer_model = model if model is not None else getattr(reflector, "model", None)
    if lesson_writer is None and isinstance(writer_model, BaseChatModel):
        lesson_writer = HindsightWriter(writer_model)
    learning = RememberNodes(
        Hindsight(actor, checked_evaluator, lesson_writer), memory, episode_log, model_name
    )

    builder = StateGraph(
        ReflexionState,
        context_schema=ReflexionContext,
        input_schema=ReflexionInput,
        output_schema=ReflexionOutput,
    )
    for node_name, func, afunc, calls_model in (
        ("recall", nodes.recall, nodes.arecall, False),
        ("actor", nodes.act, nodes.aact, True),
        ("evaluate", nodes.evaluate, nodes.aevaluate, True),  # judges call models too
        ("reflect", nodes.reflect, nodes.areflect, True),
        ("finalize", nodes.finalize, nodes.afinalize, False),
        ("hindsight", learning.hindsight, learning.ahindsight, True),
        ("remember", learning.remember, learning.aremember, False),
    ):
        builder.add_node(
            node_name,
            TwinNode(node_name, func, afunc),
            retry_policy=MODEL_RETRY_POLICY if calls_model else None,
        )
    builder.add_edge(START, "recall")
    builder.add_edge("recall", "actor")
    builder.add_edge("actor", "evaluate")
    builder.add_conditional_edges(
        "evaluate", route_after_evaluate, {"reflect": "reflect", "finalize": "finalize"}
    )
    builder.add_edge("reflect", "actor")
    builder.add_edge("finalize", "hindsight")
    builder.add_edge("hindsight", "remember")
    builder.add_edge("remember", END)
    return builder.compile(checkpointer=checkpointer, store=store, name=name)
