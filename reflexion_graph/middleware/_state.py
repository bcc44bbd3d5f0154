"""The middleware's state and what every part reads of it: the task, the answer, the attempt."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, NamedTuple, NotRequired, cast

from langchain.agents.middleware import AgentState, ModelRequest
from langchain.agents.middleware.types import OmitFromInput, PrivateStateAttr
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, RemoveMessage
from langgraph.channels.untracked_value import UntrackedValue
from langgraph.runtime import Runtime
from typing_extensions import TypedDict

from reflexion_graph._parsing import last_human_text, message_text
from reflexion_graph._records import Attempt, Evaluation, Lesson, Reflection
from reflexion_graph._usage import TokenUsage, add_usage, empty_usage
from reflexion_graph.actors._llm import retry_prompt
from reflexion_graph.actors._tools import tool_steps
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.loop._policy import (
    RunRecord,
    record_attempt,
    settle_outcomes,
    shows_last_attempt,
)
from reflexion_graph.loop._settings import ReflexionContext, RetryContext
from reflexion_graph.memory._base import BaseLessonMemory
from reflexion_graph.memory._store import StoreLessonMemory

CRITIQUE_TAG = "reflexion"
"""``additional_kwargs`` key that marks the messages this middleware adds."""
Update = dict[str, Any]
"""A hook's state update."""
DEFAULTS = ReflexionContext()
"""The graph's per-run defaults: the middleware's settings default to the same values."""


class ReflexionSummary(TypedDict):
    """What the middleware did in a run (the agent's ``reflexion`` output)."""

    passed: bool
    attempts: int
    stop_reason: str
    score: float
    lessons_saved: int
    """The lessons the memory added (a merged or already stored one adds none)."""
    feedback: str
    recalled: list[str]
    """The texts of the lessons and evidence recalled from memory for this run."""
    first_attempt_passed: bool
    """Whether the first answer, the one that saw what was recalled, passed (their credit)."""
    usage: TokenUsage
    """Tokens and model calls of the run: the agent's, the evaluator's, the lessons' and the
    replays'."""


def _latest(_: Any, new: Any) -> Any:
    """A field's reducer that keeps the latest write (two middlewares may write in one step)."""
    return new


class ReflexionAgentState(AgentState[Any]):
    """The agent's state with the run's attempts, lessons and summary."""

    reflexion: NotRequired[Annotated[ReflexionSummary, OmitFromInput]]
    reflexion_task: NotRequired[Annotated[str, PrivateStateAttr]]
    reflexion_attempts: NotRequired[Annotated[list[Attempt], PrivateStateAttr]]
    reflexion_reflections: NotRequired[Annotated[list[Reflection], PrivateStateAttr]]
    reflexion_recalled: NotRequired[Annotated[list[Lesson] | None, PrivateStateAttr, _latest]]
    """``None`` until the run's first model call recalls."""
    reflexion_usage: NotRequired[Annotated[TokenUsage, PrivateStateAttr, add_usage]]
    """What the run spent: each hook adds what it metered."""
    reflexion_system_prompt: NotRequired[Annotated[str, PrivateStateAttr, _latest]]
    """The agent's own system prompt, as its model calls had it (the replays use it)."""
    reflexion_model: NotRequired[
        Annotated[BaseChatModel, UntrackedValue(object, guard=False), PrivateStateAttr]
    ]
    """The agent's model, as its latest call had it (never checkpointed)."""
    reflexion_replies: NotRequired[Annotated[int | None, PrivateStateAttr, _latest]]
    """The AI messages the agent's model calls gave in this attempt (the model-call hook
    counts them): one more in the conversation came from another middleware."""


class Stop(NamedTuple):
    """How a run stopped: its attempts, why, what it spent, and how much of that in this hook."""

    attempts: list[Attempt]
    why: str
    usage: TokenUsage
    added: TokenUsage

    def spent(self, more: TokenUsage) -> Stop:
        """The same stop, with ``more`` spent after it (hindsight's writing and replays)."""
        return self._replace(usage=add_usage(self.usage, more), added=add_usage(self.added, more))


@dataclass
class RunMemory:
    """Where a run's lessons live and the settings it runs with, as the parts share them."""

    context: ReflexionContext
    memory: BaseLessonMemory | None
    """The memory given; ``None``: the agent's store (``create_agent(..., store=...)``), if any."""
    scope: str | Callable[[Runtime[Any]], str]

    def of(self, runtime: Runtime[Any]) -> BaseLessonMemory | None:
        """The run's memory."""
        if self.memory is not None:
            return self.memory
        return StoreLessonMemory(runtime.store) if runtime.store is not None else None

    def context_of(self, runtime: Runtime[Any]) -> ReflexionContext:
        """The run's settings, with its scope."""
        scope = self.scope(runtime) if callable(self.scope) else self.scope
        return replace(self.context, memory_scope=scope)


def run_state(request: ModelRequest[Any]) -> ReflexionAgentState:
    """The agent's state, as a model call sees it."""
    return cast(ReflexionAgentState, request.state)


def state_usage(state: ReflexionAgentState) -> TokenUsage:
    """What the run has spent so far."""
    return state.get("reflexion_usage") or empty_usage()


def task_of(messages: Sequence[BaseMessage]) -> str:
    """The task: the last human message that this middleware did not write."""
    task = last_human_text(messages, unless_tagged=CRITIQUE_TAG)
    if task is None:
        raise ConfigurationError("ReflexionMiddleware found no human message to take as the task")
    return task


def state_task(state: ReflexionAgentState) -> str:
    """The run's task, as ``before_agent`` read it."""
    return state.get("reflexion_task") or task_of(state["messages"])


def final_answer(state: ReflexionAgentState) -> str:
    """The agent's answer: its structured response as text, else its last AI message."""
    structured = state.get("structured_response")
    if structured is not None:
        return str(structured)
    for message in reversed(state["messages"]):
        if isinstance(message, AIMessage):
            return message_text(message.content)
    return ""


def messages_of_this_attempt(messages: Sequence[BaseMessage]) -> Sequence[BaseMessage]:
    """The messages after the last human one (the task, or the critique the retry answers)."""
    humans = [i for i, message in enumerate(messages) if isinstance(message, HumanMessage)]
    return messages[humans[-1] + 1 :] if humans else messages


def this_attempt(state: ReflexionAgentState, verdict: Evaluation) -> Attempt:
    """The agent's latest answer as the run's next attempt, with the tool calls it made."""
    earlier = state.get("reflexion_attempts") or []
    steps = tool_steps(messages_of_this_attempt(state["messages"]))
    return record_attempt(earlier, final_answer(state), verdict, steps)


def stopped_by_another(state: ReflexionAgentState) -> bool:
    """Whether another middleware ended the run: its last word came from no model call.

    A call-limit middleware ends a run with an answer of its own, before the model is called;
    the model-call hook counted every reply the model gave in this attempt, so the attempt then
    holds one AI message more than it counted. Where nothing counts (no recall part), no.
    """
    counted = state.get("reflexion_replies")
    if counted is None:
        return False
    replies = [m for m in messages_of_this_attempt(state["messages"]) if isinstance(m, AIMessage)]
    return len(replies) > counted


def finished_run(state: ReflexionAgentState, attempts: list[Attempt]) -> RunRecord:
    """The stopped run as the remember policy reads it, its lessons settled."""
    return RunRecord(
        task=state_task(state),
        attempts=attempts,
        reflections=settle_outcomes(state.get("reflexion_reflections") or [], attempts),
        recalled=state.get("reflexion_recalled") or [],
        learned=[],
    )


def tool_names(tools: Sequence[Any]) -> list[str]:
    """The names of the tools in play (provider tools given as dicts may have none)."""
    names = [tool.get("name") if isinstance(tool, dict) else getattr(tool, "name", None)
             for tool in tools]  # fmt: skip
    return [name for name in names if isinstance(name, str) and name]


def texts(lessons: Sequence[Lesson]) -> list[str]:
    """The lessons' texts."""
    return [lesson["text"] for lesson in lessons]


def emit(runtime: Runtime[Any], event: dict[str, Any]) -> None:
    """A custom stream event (``stream_mode="custom"``) for UIs."""
    writer = getattr(runtime, "stream_writer", None)
    if writer is not None:
        writer({"reflexion": event})


def critique_text(
    evaluation: Evaluation, reflections: Sequence[Reflection], retry_context: RetryContext
) -> str:
    """The message a retry starts from: the verdict, the lessons, or both."""
    shown = evaluation if shows_last_attempt(retry_context, evaluation) else None
    return retry_prompt(shown, reflections)


def pruned(messages: Sequence[BaseMessage]) -> list[Any]:
    """Remove the failed answers and the critiques, keeping the task and the final answer."""
    critiques = [i for i, m in enumerate(messages) if CRITIQUE_TAG in m.additional_kwargs]
    if not critiques:
        return []
    start = next(
        (i for i in range(critiques[0] - 1, -1, -1) if isinstance(messages[i], HumanMessage)), -1
    )
    doomed = messages[start + 1 : critiques[-1] + 1]
    return [RemoveMessage(id=m.id) for m in doomed if m.id]
