"""The actor contract and the default LLM actor."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from reflexion_graph import prompts
from reflexion_graph._parsing import message_text
from reflexion_graph._records import Reflection


class BaseActor(ABC):
    """Makes one attempt at a task, given lessons from earlier failures."""

    @abstractmethod
    def act(
        self, task: str, *, reflections: Sequence[Reflection], lessons: Sequence[Reflection]
    ) -> str:
        """Return the answer of one attempt."""

    async def aact(
        self, task: str, *, reflections: Sequence[Reflection], lessons: Sequence[Reflection]
    ) -> str:
        """Async twin of :meth:`act`; runs it in a worker thread unless overridden."""
        return await asyncio.to_thread(self.act, task, reflections=reflections, lessons=lessons)


class LLMActor(BaseActor):
    """One chat-model call with the task, recalled lessons and this run's reflections."""

    def __init__(
        self, model: BaseChatModel, *, system_prompt: str = prompts.ACTOR_SYSTEM_PROMPT
    ) -> None:
        self.model = model
        self.system_prompt = system_prompt

    def act(
        self, task: str, *, reflections: Sequence[Reflection], lessons: Sequence[Reflection]
    ) -> str:
        """Call the model synchronously."""
        reply = self.model.invoke(self.messages(task, reflections=reflections, lessons=lessons))
        return message_text(reply.content)

    async def aact(
        self, task: str, *, reflections: Sequence[Reflection], lessons: Sequence[Reflection]
    ) -> str:
        """Call the model asynchronously."""
        messages = self.messages(task, reflections=reflections, lessons=lessons)
        reply = await self.model.ainvoke(messages)
        return message_text(reply.content)

    def messages(
        self, task: str, *, reflections: Sequence[Reflection], lessons: Sequence[Reflection]
    ) -> list[BaseMessage]:
        """The prompt of one attempt."""
        return build_messages(self.system_prompt, task, reflections=reflections, lessons=lessons)


def build_messages(
    system_prompt: str,
    task: str,
    *,
    reflections: Sequence[Reflection],
    lessons: Sequence[Reflection],
) -> list[BaseMessage]:
    """The prompt of one attempt: system, recalled lessons, this run's reflections, the task."""
    system = [system_prompt]
    if lessons:
        system.append(prompts.ACTOR_LESSONS_PROMPT.format(lessons=_bullets(lessons)))
    if reflections:
        system.append(prompts.ACTOR_REFLECTIONS_PROMPT.format(reflections=_bullets(reflections)))
    return [SystemMessage("\n\n".join(system)), HumanMessage(task)]


def _bullets(reflections: Sequence[Reflection]) -> str:
    return "\n".join(f"- {reflection['text']}" for reflection in reflections)
