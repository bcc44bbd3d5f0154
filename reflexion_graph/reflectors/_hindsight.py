"""Cross-task lessons written in hindsight: from a failed and a passing attempt at one task.

A lesson written at failure time guesses the fix; once an attempt has passed, the contrast of
the two attempts and the check the first one failed shows what the fix was (ExpeL's insight
extraction; Training-Free GRPO learns only from groups with both outcomes).
"""

from __future__ import annotations

import asyncio
import re
from abc import ABC, abstractmethod

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from reflexion_graph import prompts
from reflexion_graph._check_text import check_line
from reflexion_graph._parsing import message_text
from reflexion_graph._records import Attempt, Lesson, LessonSource, make_lesson
from reflexion_graph.models import model_id
from reflexion_graph.models._binding import ChatRunnable, with_options

MAX_RULE_CHARS = 300
MAX_EVIDENCE_CHARS = 400
_FENCE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_WHEN = re.compile(r"\bWhen\b.*", re.DOTALL)
_MIN_LEAKED_LINE = 16
"""A line of the passing answer at least this long, found in a rule, gives the solution away."""


class BaseLessonWriter(ABC):
    """Writes the cross-task lesson of a run that failed, then passed."""

    @abstractmethod
    def write(self, task: str, failed: Attempt, passed: Attempt) -> Lesson:
        """The lesson: one rule, with the failed check as its ``evidence``."""

    async def awrite(self, task: str, failed: Attempt, passed: Attempt) -> Lesson:
        """Async twin of :meth:`write`; runs it in a worker thread unless overridden."""
        return await asyncio.to_thread(self.write, task, failed, passed)


class HindsightWriter(BaseLessonWriter):
    """Asks a chat model what the passing attempt did that the failed one did not.

    The reply's ``When <situation>, <what to do>`` sentence is the rule; fenced code is dropped
    and the rule is cut at 300 characters. OpenAI-compatible models are also asked to stop
    after ``max_rule_tokens``.
    """

    def __init__(
        self,
        model: BaseChatModel,
        *,
        system_prompt: str = prompts.HINDSIGHT_SYSTEM_PROMPT,
        user_prompt: str = prompts.HINDSIGHT_USER_PROMPT,
        max_rule_tokens: int | None = 96,
    ) -> None:
        self.model = model
        self.system_prompt = system_prompt
        self.user_prompt = user_prompt
        self._writer: ChatRunnable = with_options(model, max_tokens=max_rule_tokens)

    def write(self, task: str, failed: Attempt, passed: Attempt) -> Lesson:
        """Call the model synchronously."""
        messages = self._messages(task, failed, passed)
        return self._lesson(task, failed, messages, self._writer.invoke(messages).content)

    async def awrite(self, task: str, failed: Attempt, passed: Attempt) -> Lesson:
        """Call the model asynchronously."""
        messages = self._messages(task, failed, passed)
        reply = await self._writer.ainvoke(messages)
        return self._lesson(task, failed, messages, reply.content)

    def _messages(self, task: str, failed: Attempt, passed: Attempt) -> list[BaseMessage]:
        user = self.user_prompt.format(
            task=task,
            failed=failed["answer"],
            feedback=evidence_of(failed) or prompts.NO_FEEDBACK_FOR_REFLECTION,
            passed=passed["answer"],
        )
        return [SystemMessage(self.system_prompt), HumanMessage(user)]

    def _lesson(
        self, task: str, failed: Attempt, messages: list[BaseMessage], content: object
    ) -> Lesson:
        lesson = hindsight_lesson(rule_from_reply(message_text(content)), task=task, failed=failed)
        lesson["prompt"] = "\n\n".join(message_text(m.content) for m in messages)
        lesson["metadata"]["model"] = model_id(self.model)
        return lesson


def hindsight_lesson(
    rule: str, *, task: str, failed: Attempt, source: LessonSource = "contrast"
) -> Lesson:
    """A hindsight lesson: the rule as its text, the failed check as its evidence.

    ``source`` says where the rule came from: ``"contrast"`` (written from the failed and the
    passing attempt), ``"retry"`` (the rule of the in-run lesson the passing attempt saw) or
    ``"failure"`` (an in-run lesson's rule of a run that never passed). Its writer's prompt
    and model, where a model wrote it, are set by the writer.
    """
    return make_lesson(
        rule,
        task=task,
        rule=rule,
        evidence=evidence_of(failed),
        source=source,
        metadata={"model": ""},
    )


def rule_from_reply(reply: str) -> str:
    """The ``When ...`` sentence of a reply (else the whole reply), on one line, without code."""
    text = " ".join(_FENCE.sub(" ", reply).split()).strip(" *\"'")
    found = _WHEN.search(text)
    return (found.group(0) if found else text)[:MAX_RULE_CHARS].strip()


def evidence_of(attempt: Attempt) -> str:
    """The checks an attempt failed, as its evaluator reported them (capped); ``""`` if none.

    From the check records where the evaluator kept them, else from its feedback.
    """
    checks = attempt["evaluation"].get("checks") or []
    if checks:
        return "; ".join(check_line(check) for check in checks)[:MAX_EVIDENCE_CHARS]
    return attempt["evaluation"]["feedback"].strip()[:MAX_EVIDENCE_CHARS]


def leaks_solution(rule: str, answer: str) -> bool:
    """Whether ``rule`` gives the passing ``answer`` away: code, or a whole line of it.

    A lesson that carries the solution would pass its replay without teaching anything.
    """
    if "```" in rule or re.search(r"\bdef\s+\w+\s*\(", rule):
        return True
    flat = " ".join(rule.split())
    code = _FENCE.findall(answer) or [answer]
    lines = (" ".join(line.split()) for block in code for line in block.splitlines())
    return any(
        len(line) >= _MIN_LEAKED_LINE and not line.startswith("```") and line in flat
        for line in lines
    )
