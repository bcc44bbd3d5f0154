"""Actors that use tools (the user's own, or their ready ``ToolNode``) or are whole graphs."""

from __future__ import annotations

import concurrent.futures
import json
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool, tool
from langgraph.errors import GraphRecursionError
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from langgraph.pregel import Pregel
from langgraph.runtime import Runtime

from reflexion_graph import prompts
from reflexion_graph._actor import BaseActor, build_messages
from reflexion_graph._parsing import message_text
from reflexion_graph._records import Attempt, Reflection
from reflexion_graph._twin_node import TwinNode
from reflexion_graph.errors import ConfigurationError

ToolLike = BaseTool | Callable[..., Any]


class GraphActor(BaseActor):
    """Any compiled LangGraph graph with a ``messages`` channel makes the attempts.

    It is invoked with the attempt's prompt as ``{"messages": [...]}``; the attempt's answer is
    the transcript of what it added: tool calls, tool results and the final reply, so the
    evaluator and the reflector see how the answer came about.
    """

    def __init__(self, graph: Pregel[Any, Any, Any, Any], *, recursion_limit: int = 25) -> None:
        channels = getattr(graph, "channels", {}) or {}
        if "messages" not in channels:
            raise ConfigurationError(
                f"an actor graph needs a 'messages' channel (like MessagesState); "
                f"{getattr(graph, 'name', type(graph).__name__)!r} has {sorted(channels)}"
            )
        self.graph = graph
        self.recursion_limit = recursion_limit

    def act(
        self,
        task: str,
        *,
        reflections: Sequence[Reflection],
        lessons: Sequence[Reflection],
        last_attempt: Attempt | None = None,
    ) -> str:
        """Run the graph once."""
        messages = self._messages(task, reflections, lessons, last_attempt)
        try:
            output = self.graph.invoke(
                {"messages": messages}, {"recursion_limit": self.recursion_limit}
            )
        except GraphRecursionError:
            return _stopped(self.recursion_limit)
        return transcript(output["messages"][len(messages) :])

    async def aact(
        self,
        task: str,
        *,
        reflections: Sequence[Reflection],
        lessons: Sequence[Reflection],
        last_attempt: Attempt | None = None,
    ) -> str:
        """Run the graph once, asynchronously."""
        messages = self._messages(task, reflections, lessons, last_attempt)
        try:
            output = await self.graph.ainvoke(
                {"messages": messages}, {"recursion_limit": self.recursion_limit}
            )
        except GraphRecursionError:
            return _stopped(self.recursion_limit)
        return transcript(output["messages"][len(messages) :])

    def _messages(
        self,
        task: str,
        reflections: Sequence[Reflection],
        lessons: Sequence[Reflection],
        last_attempt: Attempt | None,
    ) -> list[BaseMessage]:
        return build_messages(
            prompts.TOOL_ACTOR_SYSTEM_PROMPT,
            task,
            reflections=reflections,
            lessons=lessons,
            last_attempt=last_attempt,
        )


def create_tool_actor(
    model: BaseChatModel,
    tools: Sequence[ToolLike] | ToolNode,
    *,
    max_tool_steps: int = 6,
    tool_timeout_s: float = 30.0,
) -> GraphActor:
    """A ReAct-style actor: the model calls tools until it answers without a tool call.

    ``tools`` are functions or ``BaseTool``s (a tool that raises, or runs past
    ``tool_timeout_s``, answers the model with the error instead of ending the run), or your
    own ``ToolNode`` used as it is, with its own error handling.
    """
    if isinstance(tools, ToolNode):
        tool_node, bound = tools, list(tools.tools_by_name.values())
    else:
        if not tools:
            raise ConfigurationError("create_tool_actor needs at least one tool")
        bound = [_with_timeout(_as_tool(t), tool_timeout_s) for t in tools]
        tool_node = ToolNode(bound, handle_tool_errors=True)
    caller = model.bind_tools(bound)

    def agent(state: MessagesState, runtime: Runtime[None]) -> dict[str, list[AnyMessage]]:
        return {"messages": [caller.invoke(state["messages"])]}

    async def aagent(state: MessagesState, runtime: Runtime[None]) -> dict[str, list[AnyMessage]]:
        return {"messages": [await caller.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", TwinNode("agent", agent, aagent))
    builder.add_node("tools", tool_node)
    builder.add_edge(START, "agent")
    builder.add_conditional_edges(
        "agent", tools_condition, {"tools": "tools", "__end__": "__end__"}
    )
    builder.add_edge("tools", "agent")
    graph = builder.compile(name="tool_actor")
    return GraphActor(graph, recursion_limit=2 * max_tool_steps + 1)


def transcript(messages: Sequence[BaseMessage]) -> str:
    """The attempt as text: each tool call and result, then the final reply."""
    lines = []
    for message in messages:
        if isinstance(message, AIMessage) and message.tool_calls:
            for call in message.tool_calls:
                lines.append(f"[tool call] {call['name']}({json.dumps(call['args'])})")
        elif isinstance(message, ToolMessage):
            status = "error" if message.status == "error" else "result"
            lines.append(f"[tool {status}] {message.name}: {message_text(message.content)}")
    final = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
    reply = message_text(final.content) if final is not None and not final.tool_calls else ""
    return "\n".join([*lines, reply] if lines else [reply]).strip()


def _stopped(limit: int) -> str:
    return f"[stopped] the actor made no final answer within {limit} graph steps"


def _as_tool(candidate: ToolLike) -> BaseTool:
    if isinstance(candidate, BaseTool):
        return candidate
    if callable(candidate):
        return tool(candidate)
    raise ConfigurationError(f"a tool must be a function or a BaseTool, got {candidate!r}")


def _with_timeout(original: BaseTool, timeout_s: float) -> BaseTool:
    """The same tool, answering with an error when it runs past ``timeout_s``."""

    def call(**kwargs: Any) -> Any:
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        try:  # a hung call keeps its worker thread, but the attempt goes on
            return pool.submit(original.invoke, kwargs).result(timeout=timeout_s)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"tool {original.name!r} timed out after {timeout_s:g} s") from None
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    return StructuredTool.from_function(
        call, name=original.name, description=original.description, args_schema=original.args_schema
    )
