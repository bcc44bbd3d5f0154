"""Actors that use tools (the user's own, or their ready ``ToolNode``) or are whole graphs."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool, tool
from langgraph.errors import GraphRecursionError
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.pregel import Pregel
from langgraph.runtime import Runtime
from langgraph.types import Command

from reflexion_graph import prompts
from reflexion_graph._parsing import message_text, parse_call
from reflexion_graph._records import ToolStep
from reflexion_graph._twin_node import TwinNode
from reflexion_graph.actors._llm import BaseActor, build_messages
from reflexion_graph.actors._request import AttemptRequest, AttemptResult
from reflexion_graph.errors import ConfigurationError

ToolLike = BaseTool | Callable[..., Any]
ToolOutcome = ToolMessage | Command[Any]
Execute = Callable[[ToolCallRequest], ToolOutcome]
AsyncExecute = Callable[[ToolCallRequest], Awaitable[ToolOutcome]]


class GraphActor(BaseActor):
    """Any compiled LangGraph graph with a ``messages`` channel makes the attempts.

    It is invoked with the attempt's prompt as ``{"messages": [...]}``; the attempt's answer is
    the transcript of what it added: tool calls, tool results and the final reply, so the
    evaluator and the reflector see how the answer came about. Its tool steps come with it as
    records (:func:`tool_steps`), which per-step blame reads.
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

    @functools.cached_property
    def steps(self) -> tuple[str, ...]:
        """The tools of the graph's ``ToolNode``s (subgraphs included): its nameable steps."""
        names: list[str] = []
        for node in self.graph.get_graph(xray=True).nodes.values():
            if isinstance(node.data, ToolNode):
                names.extend(name for name in node.data.tools_by_name if name not in names)
        return tuple(names)

    def attempt(self, request: AttemptRequest) -> AttemptResult:
        """Run the graph once."""
        messages = build_messages(prompts.TOOL_ACTOR_SYSTEM_PROMPT, request)
        try:
            output = self.graph.invoke(
                {"messages": messages}, {"recursion_limit": self.recursion_limit}
            )
        except GraphRecursionError:
            return AttemptResult(_stopped(self.recursion_limit))
        return attempt_result(output["messages"][len(messages) :])

    async def aattempt(self, request: AttemptRequest) -> AttemptResult:
        """Run the graph once, asynchronously."""
        messages = build_messages(prompts.TOOL_ACTOR_SYSTEM_PROMPT, request)
        try:
            output = await self.graph.ainvoke(
                {"messages": messages}, {"recursion_limit": self.recursion_limit}
            )
        except GraphRecursionError:
            return AttemptResult(_stopped(self.recursion_limit))
        return attempt_result(output["messages"][len(messages) :])


def create_tool_actor(
    model: BaseChatModel,
    tools: Sequence[ToolLike] | ToolNode,
    *,
    max_tool_steps: int = 6,
    tool_timeout_s: float = 30.0,
) -> GraphActor:
    """A ReAct-style actor: the model calls tools until it answers without a tool call.

    ``tools`` are functions or ``BaseTool``s, used as given (a tool that raises, or runs past
    ``tool_timeout_s``, answers the model with the error instead of ending the run), or your
    own ``ToolNode`` used as it is, with its own error handling (give it a
    :class:`ToolTimeout` as its ``wrap_tool_call`` and ``awrap_tool_call`` for a time limit).
    """
    if isinstance(tools, ToolNode):
        tool_node, bound = tools, list(tools.tools_by_name.values())
    else:
        if not tools:
            raise ConfigurationError("create_tool_actor needs at least one tool")
        bound = [_as_tool(t) for t in tools]
        timeout = ToolTimeout(tool_timeout_s)
        tool_node = ToolNode(
            bound, handle_tool_errors=True, wrap_tool_call=timeout, awrap_tool_call=timeout.acall
        )
    caller = model.bind_tools(bound)
    names = {candidate.name for candidate in bound}

    def agent(state: MessagesState, runtime: Runtime[None]) -> dict[str, list[AnyMessage]]:
        return {"messages": [recover_tool_call(caller.invoke(state["messages"]), names)]}

    async def aagent(state: MessagesState, runtime: Runtime[None]) -> dict[str, list[AnyMessage]]:
        reply = await caller.ainvoke(state["messages"])
        return {"messages": [recover_tool_call(reply, names)]}

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


def recover_tool_call(message: BaseMessage, tool_names: set[str]) -> AnyMessage:
    """The reply, with a tool call written as JSON in its text made a real tool call.

    Small models often write ``{"name": ..., "arguments": {...}}`` in a code block instead of
    the chat template's tool-call syntax (:func:`parse_call` reads it, as the function-call
    checker does); only a call of a bound tool is recovered.
    """
    if not isinstance(message, AIMessage) or message.tool_calls:
        return message  # type: ignore[return-value]
    call = parse_call(message_text(message.content))
    if call is None or call[0] not in tool_names:
        return message
    name, arguments = call
    return AIMessage(
        "",
        tool_calls=[{"name": name, "args": arguments, "id": f"recovered-{uuid.uuid4().hex}"}],
        response_metadata=message.response_metadata,
        usage_metadata=message.usage_metadata,
    )


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


def attempt_result(messages: Sequence[BaseMessage]) -> AttemptResult:
    """What the actor graph added: its :func:`transcript` and its :func:`tool_steps`."""
    return AttemptResult(transcript(messages), tool_steps(messages))


def tool_steps(messages: Sequence[BaseMessage]) -> list[ToolStep]:
    """Each tool call in ``messages`` with the tool message that answered it, in call order."""
    answers = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    steps = []
    for message in messages:
        for call in message.tool_calls if isinstance(message, AIMessage) else []:
            answer = answers.get(call["id"] or "")
            steps.append(
                ToolStep(
                    tool=call["name"],
                    args=dict(call["args"]),
                    result=message_text(answer.content) if answer is not None else "",
                    error=answer is not None and answer.status == "error",
                )
            )
    return steps


def tools_called(steps: Sequence[ToolStep]) -> list[str]:
    """The tools called, in order of first call."""
    return list(dict.fromkeys(step["tool"] for step in steps))


def tools_left_failing(steps: Sequence[ToolStep]) -> list[str]:
    """The tools whose last call answered with an error, in order of first call."""
    last_error = {step["tool"]: step["error"] for step in steps}
    return [name for name in tools_called(steps) if last_error[name]]


def _stopped(limit: int) -> str:
    return f"[stopped] the actor made no final answer within {limit} graph steps"


def _as_tool(candidate: ToolLike) -> BaseTool:
    if isinstance(candidate, BaseTool):
        return candidate
    if callable(candidate):
        return tool(candidate)
    raise ConfigurationError(f"a tool must be a function or a BaseTool, got {candidate!r}")


class ToolTimeout:
    """A ``ToolNode`` interceptor: a tool call past ``seconds`` answers with a ``TimeoutError``.

    Pass it as ``ToolNode(tools, wrap_tool_call=timeout, awrap_tool_call=timeout.acall)``; the
    tools stay the objects given, with every attribute. The sync path runs the call in a
    worker thread (an async-only tool, as MCP adapters make, runs there on an event loop of its
    own); a hung call keeps its thread, but the attempt goes on. The async path awaits it.
    """

    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise ConfigurationError(f"a tool timeout must be positive, got {seconds!r}")
        self.seconds = seconds

    def __call__(self, request: ToolCallRequest, execute: Execute) -> ToolOutcome:
        """Run the call in a worker thread; raise ``TimeoutError`` past the limit."""
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        try:
            return pool.submit(_run_sync, request, execute).result(timeout=self.seconds)
        except concurrent.futures.TimeoutError:
            raise self._timed_out(request) from None
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    async def acall(self, request: ToolCallRequest, execute: AsyncExecute) -> ToolOutcome:
        """Await the call; raise ``TimeoutError`` past the limit."""
        try:
            return await asyncio.wait_for(execute(request), self.seconds)
        except TimeoutError:
            raise self._timed_out(request) from None

    def _timed_out(self, request: ToolCallRequest) -> TimeoutError:
        name = request.tool_call["name"]
        return TimeoutError(f"tool {name!r} timed out after {self.seconds:g} s")


def _run_sync(request: ToolCallRequest, execute: Execute) -> ToolOutcome:
    """The call on the sync path; an async-only tool runs on an event loop of its own."""
    tool = request.tool
    if isinstance(tool, StructuredTool) and tool.func is None and tool.coroutine:
        reply = asyncio.run(tool.ainvoke({**request.tool_call, "type": "tool_call"}))
        return (
            reply
            if isinstance(reply, ToolMessage | Command)
            else ToolMessage(str(reply), name=tool.name, tool_call_id=request.tool_call["id"])
        )
    return execute(request)
