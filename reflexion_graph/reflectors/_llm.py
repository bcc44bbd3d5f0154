"""The reflector contract and the default LLM reflector."""

from __future__ import annotations

import asyncio
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from reflexion_graph import prompts
from reflexion_graph._parsing import message_text
from reflexion_graph._records import Attempt, Reflection, make_reflection
from reflexion_graph.actors._llm import bullet_list
from reflexion_graph.actors._tools import tools_called
from reflexion_graph.models import model_id
from reflexion_graph.models._binding import ChatRunnable, with_options
from reflexion_graph.reflectors._blame import blamed_step

_MAX_LESSON_CHARS = 600
_CODE_BLOCK = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_MISTAKE = re.compile(
    r"\bMistake:\s*(.+?)\s*(?=\bRule:|\bFix:|\bStep:|$)", re.IGNORECASE | re.DOTALL
)
_RULE = re.compile(r"\bRule:\s*(.+?)\s*(?=\bFix:|\bMistake:|\bStep:|$)", re.IGNORECASE | re.DOTALL)
_MARKED_LABEL = re.compile(
    r"(?:#{1,6}[ \t]*(Mistake|Rule|Fix|Step)\b:?|(\*\*|__)(Mistake|Rule|Fix|Step):?\2:?)"
)
_MARKUP = re.compile(r"[#*_`]+")


def rule_of(lesson: str) -> str:
    """The general rule a lesson states on its ``Rule:`` line (``### Rule`` too), or ``""``."""
    found = _RULE.search(_plain_labels(lesson))
    return " ".join(found.group(1).strip(" *").split()) if found else ""


def mistake_of(lesson: str) -> str:
    """The lesson's ``Mistake:`` line (``**Mistake:**`` too), or ``""``."""
    found = _MISTAKE.search(_plain_labels(lesson))
    return " ".join(found.group(1).strip(" *").split()).lower() if found else ""


def repeats(text: str, earlier: Sequence[Reflection]) -> bool:
    """Whether a lesson repeats one of the run's earlier ones (text, or ``Mistake:`` line).

    Markdown does not make a lesson new: ``### Mistake`` and ``**Mistake:**`` are one label.
    """
    flat, mistake = _plain(text), mistake_of(text)
    for reflection in earlier:
        if flat == _plain(reflection["text"]):
            return True
        if mistake and mistake == mistake_of(reflection["text"]):
            return True
    return False


def _plain_labels(text: str) -> str:
    """``text`` with markdown labels (``### Rule``, ``**Fix:**``) written plainly (``Rule:``)."""
    return _MARKED_LABEL.sub(lambda label: f"{label.group(1) or label.group(3)}:", text)


def _plain(text: str) -> str:
    """A lesson without markup, case or spacing: what two copies of one lesson share."""
    return " ".join(_MARKUP.sub(" ", _plain_labels(text)).split()).lower()


def found_lesson(task: str, attempt: Attempt) -> Reflection:
    """The lesson the verdict's ``findings`` make: no model call.

    A small model shown a failed check often misreads it; a finding is a change to the failed
    answer that made it pass every check of the task (:mod:`reflexion_graph.findings`).
    """
    findings = attempt["evaluation"].get("findings") or []
    return make_reflection(
        prompts.FOUND_LESSON.format(findings=" ".join(findings)),
        task=task,
        attempt=attempt["number"],
        metadata={"model": "", "fallback": True, "fallback_reason": "found"},
    )


def lesson_text(content: object) -> str:
    """A reply as a lesson: on one line, labels plain, without code, cut at 600 characters."""
    return _plain_labels(_without_code(message_text(content)))[:_MAX_LESSON_CHARS]


def _without_code(text: str) -> str:
    """The lesson on one line, without fenced code.

    A lesson is a rule; a small model's code in it is often wrong, and the next attempt copies it.
    """
    return " ".join(_CODE_BLOCK.sub(" ", text).split())


class BaseReflector(ABC):
    """Turns a failed attempt and its feedback into a short verbal lesson.

    ``earlier`` holds the lessons this run already wrote on the task, so a new lesson can say
    what they missed instead of repeating them.
    """

    @abstractmethod
    def reflect(
        self, task: str, attempt: Attempt, *, earlier: Sequence[Reflection] = ()
    ) -> Reflection:
        """Write the lesson for the attempt after ``attempt``."""

    async def areflect(
        self, task: str, attempt: Attempt, *, earlier: Sequence[Reflection] = ()
    ) -> Reflection:
        """Async twin of :meth:`reflect`; runs it in a worker thread unless overridden."""
        return await asyncio.to_thread(self.reflect, task, attempt, earlier=earlier)


class LLMReflector(BaseReflector):
    """Asks a chat model for the mistake, the general rule and the fix, in three short lines.

    A lesson names the mistake, the general rule the expected results follow (kept in the
    lesson's ``rule``: what long-term memory stores) and the fix. When the attempt
    called tools, the lesson also names the step that went wrong (``step``: the
    tool's name, or ``""`` for the final reply), so memory can recall it whenever that tool is
    in play again. Lessons are cut at
    600 characters. OpenAI-compatible models are also asked to stop after
    ``max_lesson_tokens`` (three short lines fit; small models otherwise ramble on); ``None`` keeps
    the model's own limit.
    """

    def __init__(
        self,
        model: BaseChatModel,
        *,
        system_prompt: str = prompts.REFLECTOR_SYSTEM_PROMPT,
        user_prompt: str = prompts.REFLECTOR_USER_PROMPT,
        max_lesson_tokens: int | None = 160,
    ) -> None:
        self.model = model
        self.system_prompt = system_prompt
        self.user_prompt = user_prompt
        self._writer: ChatRunnable = with_options(model, max_tokens=max_lesson_tokens)

    def reflect(
        self, task: str, attempt: Attempt, *, earlier: Sequence[Reflection] = ()
    ) -> Reflection:
        """Call the model synchronously."""
        messages = self._messages(task, attempt, earlier)
        text = lesson_text(self._writer.invoke(messages).content)
        if repeats(text, earlier):
            messages = [*messages, AIMessage(text), HumanMessage(prompts.REFLECTOR_REPEATED_PROMPT)]
            text = lesson_text(self._writer.invoke(messages).content)
        return self._lesson(task, attempt, messages, text, earlier)

    async def areflect(
        self, task: str, attempt: Attempt, *, earlier: Sequence[Reflection] = ()
    ) -> Reflection:
        """Call the model asynchronously."""
        messages = self._messages(task, attempt, earlier)
        text = lesson_text((await self._writer.ainvoke(messages)).content)
        if repeats(text, earlier):
            messages = [*messages, AIMessage(text), HumanMessage(prompts.REFLECTOR_REPEATED_PROMPT)]
            text = lesson_text((await self._writer.ainvoke(messages)).content)
        return self._lesson(task, attempt, messages, text, earlier)

    def _messages(
        self, task: str, attempt: Attempt, earlier: Sequence[Reflection]
    ) -> list[BaseMessage]:
        feedback = attempt["evaluation"]["feedback"] or prompts.NO_FEEDBACK_FOR_REFLECTION
        earlier_text = (
            prompts.REFLECTOR_EARLIER_PROMPT.format(lessons=bullet_list(earlier)) if earlier else ""
        )
        called = tools_called(attempt.get("steps") or [])
        steps_text = prompts.REFLECTOR_STEP_PROMPT.format(tools=", ".join(called)) if called else ""
        user = self.user_prompt.format(
            task=task,
            answer=attempt["answer"],
            feedback=feedback,
            earlier=earlier_text,
            steps=steps_text,
        )
        return [SystemMessage(self.system_prompt), HumanMessage(user)]

    def _lesson(
        self,
        task: str,
        attempt: Attempt,
        messages: list[BaseMessage],
        text: str,
        earlier: Sequence[Reflection],
    ) -> Reflection:
        """The lesson; the verdict's own feedback when the model wrote nothing new.

        Small models sometimes answer with nothing, or, shown their earlier lessons, copy one
        even when asked again: the concrete feedback is then a better lesson.
        """
        fallback = "repeated" if text and repeats(text, earlier) else "" if text else "empty"
        if fallback:
            text = prompts.FALLBACK_LESSON.format(feedback=attempt["evaluation"]["feedback"])
        prompt = "\n\n".join(message_text(m.content) for m in messages)
        return make_reflection(
            text,
            task=task,
            attempt=attempt["number"],
            prompt=prompt,
            rule=rule_of(text),
            step=blamed_step(text, attempt.get("steps") or []),
            metadata={
                "model": model_id(self.model),
                "fallback": bool(fallback),
                "fallback_reason": fallback,
            },
        )
