"""The actor contract and the default LLM actor."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from reflexion_graph import prompts
from reflexion_graph._parsing import message_text
from reflexion_graph._records import Attempt, Lesson, Reflection


class BaseActor(ABC):
    """Makes one attempt at a task, given what earlier failures taught.

    ``lessons`` come from earlier tasks (long-term memory); ``reflections`` are this run's
    lessons; ``last_attempt`` is the previous attempt with its verdict when the run's retry
    context shows it (Reflexion's programming setup, Self-Refine), else ``None``.
    """

    @property
    def steps(self) -> tuple[str, ...]:
        """The named steps an attempt can take (tool names); none for a plain model call.

        Lessons blamed on one of them are recalled whenever it is in play again.
        """
        return ()

    @abstractmethod
    def act(
        self,
        task: str,
        *,
        reflections: Sequence[Reflection],
        lessons: Sequence[Lesson],
        last_attempt: Attempt | None = None,
    ) -> str:
        """Return the answer of one attempt."""

    async def aact(
        self,
        task: str,
        *,
        reflections: Sequence[Reflection],
        lessons: Sequence[Lesson],
        last_attempt: Attempt | None = None,
    ) -> str:
        """Async twin of :meth:`act`; runs it in a worker thread unless overridden."""
        return await asyncio.to_thread(
            self.act, task, reflections=reflections, lessons=lessons, last_attempt=last_attempt
        )


class LLMActor(BaseActor):
    """One chat-model call with the task, recalled lessons and the run's retry context."""

    def __init__(
        self, model: BaseChatModel, *, system_prompt: str = prompts.ACTOR_SYSTEM_PROMPT
    ) -> None:
        self.model = model
        self.system_prompt = system_prompt

    def act(
        self,
        task: str,
        *,
        reflections: Sequence[Reflection],
        lessons: Sequence[Lesson],
        last_attempt: Attempt | None = None,
    ) -> str:
        """Call the model synchronously."""
        messages = self.messages(
            task, reflections=reflections, lessons=lessons, last_attempt=last_attempt
        )
        return message_text(self.model.invoke(messages).content)

    async def aact(
        self,
        task: str,
        *,
        reflections: Sequence[Reflection],
        lessons: Sequence[Lesson],
        last_attempt: Attempt | None = None,
    ) -> str:
        """Call the model asynchronously."""
        messages = self.messages(
            task, reflections=reflections, lessons=lessons, last_attempt=last_attempt
        )
        return message_text((await self.model.ainvoke(messages)).content)

    def messages(
        self,
        task: str,
        *,
        reflections: Sequence[Reflection],
        lessons: Sequence[Lesson],
        last_attempt: Attempt | None = None,
    ) -> list[BaseMessage]:
        """The prompt of one attempt."""
        return build_messages(
            self.system_prompt,
            task,
            reflections=reflections,
            lessons=lessons,
            last_attempt=last_attempt,
        )


def build_messages(
    system_prompt: str,
    task: str,
    *,
    reflections: Sequence[Reflection],
    lessons: Sequence[Lesson],
    last_attempt: Attempt | None = None,
) -> list[BaseMessage]:
    """The prompt of one attempt.

    Without a last attempt: the system prompt with recalled lessons and this run's
    reflections, then the task. With one, as a conversation: the task, the failed answer, then
    its feedback and the run's reflections, asking for a corrected answer. The conversation
    keeps the system prompt and the task as a stable prefix (the server's prompt cache reuses
    it).
    """
    system = [system_prompt]
    if lessons:
        system.append(prompts.ACTOR_LESSONS_PROMPT.format(lessons=lesson_list(lessons)))
    if last_attempt is None:
        if reflections:
            system.append(
                prompts.ACTOR_REFLECTIONS_PROMPT.format(reflections=bullet_list(reflections))
            )
        return [SystemMessage("\n\n".join(system)), HumanMessage(task)]
    notes = (
        prompts.ACTOR_RETRY_NOTES_PROMPT.format(reflections=bullet_list(reflections))
        if reflections
        else ""
    )
    feedback = last_attempt["evaluation"]["feedback"] or "The answer was judged wrong."
    return [
        SystemMessage("\n\n".join(system)),
        HumanMessage(task),
        AIMessage(last_attempt["answer"]),
        HumanMessage(prompts.ACTOR_RETRY_PROMPT.format(feedback=feedback, notes=notes)),
    ]


def bullet_list(reflections: Sequence[Reflection]) -> str:
    """The lessons' texts, one ``- `` bullet a line."""
    return "\n".join(f"- {reflection['text']}" for reflection in reflections)


MAX_SHOWN_EVIDENCE_CHARS = 200
"""How much of a recalled lesson's evidence (the check it was learnt from) an attempt sees."""


def lesson_list(lessons: Sequence[Lesson]) -> str:
    """Recalled lessons, one bullet each, with the check each was learnt from as its example.

    A small model follows a rule it sees applied (ExpeL recalls insights with examples); the
    evidence is another task's failed check, never this task's.
    """
    lines = []
    for lesson in lessons:
        evidence = " ".join(lesson["evidence"].split())
        example = f" (seen on an earlier task: {evidence[:MAX_SHOWN_EVIDENCE_CHARS]})"
        lines.append(f"- {lesson['text']}{example if evidence else ''}")
    return "\n".join(lines)
