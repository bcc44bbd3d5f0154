"""Recall and inject: the lessons of similar earlier tasks in the agent's system prompt.

``wrap_model_call`` recalls on the run's first model call (the lessons of similar tasks and
those blamed on a tool in play), shows them after the agent's own system prompt on every call
of the run, and meters each call. Usable alone: any ``create_agent`` agent then starts each
run with what a memory holds, for example one another agent's ``ReflexionMiddleware`` fills.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from langchain.agents.middleware import (
    AgentMiddleware,
    ExtendedModelResponse,
    ModelRequest,
    ModelResponse,
)
from langchain_core.messages import AIMessage, SystemMessage
from langgraph.runtime import Runtime
from langgraph.types import Command, Overwrite

from reflexion_graph import prompts
from reflexion_graph._parsing import message_text
from reflexion_graph._records import Lesson
from reflexion_graph._usage import empty_usage, reported_usage
from reflexion_graph.actors._llm import recalled_sections
from reflexion_graph.loop._policy import arecall, recall
from reflexion_graph.loop._settings import ReflexionContext
from reflexion_graph.memory._base import BaseLessonMemory
from reflexion_graph.middleware._state import (
    DEFAULTS,
    ReflexionAgentState,
    RunMemory,
    Update,
    emit,
    run_state,
    state_task,
    task_of,
    texts,
    tool_names,
)


class RecallLessonsMiddleware(AgentMiddleware[ReflexionAgentState, Any, Any]):
    """Show the lessons of similar earlier tasks in the agent's system prompt.

    Example::

        agent = create_agent(model, tools, middleware=[
            RecallLessonsMiddleware(memory=ChromaLessonMemory(path="lessons")),
        ])

    Args:
        memory: Where the lessons are; defaults to the agent's store when it has one.
        recall_k: Rules recalled per task (those blamed on one of the agent's tools first).
        recall_evidence: Evidence lessons (checks earlier tasks failed) recalled per task.
        memory_scope: The memory's scope, or a function of the run's ``Runtime`` giving it.
        name: The middleware's name.
    """

    state_schema = ReflexionAgentState

    def __init__(
        self,
        *,
        memory: BaseLessonMemory | None = None,
        recall_k: int = DEFAULTS.recall_k,
        recall_evidence: int = DEFAULTS.recall_evidence,
        memory_scope: str | Callable[[Runtime[Any]], str] = DEFAULTS.memory_scope,
        name: str = "RecallLessonsMiddleware",
    ) -> None:
        super().__init__()
        context = ReflexionContext(recall_k=recall_k, recall_evidence=recall_evidence)
        self.memory = RunMemory(context, memory, memory_scope)
        self._name = name

    @property
    def name(self) -> str:
        """The middleware's node-name prefix."""
        return self._name

    # before_agent: the task, nothing recalled yet (checkpointed: a resumed run keeps it).
    def before_agent(self, state: ReflexionAgentState, runtime: Runtime[Any]) -> Update:
        """Start the run: its task, nothing recalled yet, nothing spent."""
        return {
            "reflexion_task": task_of(state["messages"]),
            "reflexion_recalled": None,
            "reflexion_usage": Overwrite(empty_usage()),
            "reflexion_replies": 0,
        }

    async def abefore_agent(self, state: ReflexionAgentState, runtime: Runtime[Any]) -> Update:
        """Async twin of :meth:`before_agent`."""
        return self.before_agent(state, runtime)

    # wrap_model_call: recall on the run's first call; the lessons in the system prompt
    # (fixed within a run); the usage each reply reports.
    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ExtendedModelResponse[Any]:
        """Call the model with the recalled lessons in its system prompt."""
        earlier = run_state(request).get("reflexion_recalled")
        recalled = earlier if earlier is not None else recall(*self._query(request))
        response = handler(with_lessons(request, recalled))
        return self._called(request, response, recalled if earlier is None else None)

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ExtendedModelResponse[Any]:
        """Async twin of :meth:`wrap_model_call`."""
        earlier = run_state(request).get("reflexion_recalled")
        recalled = earlier if earlier is not None else await arecall(*self._query(request))
        response = await handler(with_lessons(request, recalled))
        return self._called(request, response, recalled if earlier is None else None)

    def _query(
        self, request: ModelRequest[Any]
    ) -> tuple[BaseLessonMemory | None, str, list[str], ReflexionContext]:
        """What the run's recall searches: its memory, task, the tools in play, its context."""
        runtime = request.runtime
        task = state_task(run_state(request))
        return (
            self.memory.of(runtime),
            task,
            tool_names(request.tools),
            self.memory.context_of(runtime),
        )

    def _called(
        self,
        request: ModelRequest[Any],
        response: ModelResponse[Any],
        first_recall: list[Lesson] | None,
    ) -> ExtendedModelResponse[Any]:
        """The model's response, with what the run keeps of the call (its usage, its replies).

        ``first_recall``: what the run's first call recalled (``None`` on later calls).
        """
        update: dict[str, Any] = {
            "reflexion_usage": reported_usage(response.result),
            "reflexion_model": request.model,
            "reflexion_replies": (run_state(request).get("reflexion_replies") or 0)
            + sum(isinstance(m, AIMessage) for m in response.result),
        }
        if first_recall is not None:
            emit(request.runtime, {"type": "recalled", "lessons": texts(first_recall)})
            system = request.system_message
            update["reflexion_recalled"] = first_recall
            update["reflexion_system_prompt"] = (
                message_text(system.content) if system else prompts.ACTOR_SYSTEM_PROMPT
            )
        return ExtendedModelResponse(model_response=response, command=Command(update=update))


def with_lessons(request: ModelRequest[Any], lessons: Sequence[Lesson]) -> ModelRequest[Any]:
    """The request with the recalled lessons after the agent's own system prompt."""
    if not lessons:
        return request
    system = request.system_message
    base = message_text(system.content) if system else ""
    return request.override(
        system_message=SystemMessage("\n\n".join(filter(None, [base, *recalled_sections(lessons)])))
    )
