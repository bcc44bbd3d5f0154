"""The actor contract and the default LLM actor."""

from __future__ import annotations

import asyncio
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, NotRequired

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from typing_extensions import TypedDict, Unpack

from reflexion_graph import prompts
from reflexion_graph._parsing import message_text
from reflexion_graph._records import (
    Attempt,
    Evaluation,
    Lesson,
    Reflection,
    conventions_of,
    is_evidence,
)
from reflexion_graph.actors._request import AttemptRequest, AttemptResult, as_result


class SpelledOutRequest(TypedDict):
    """The keyword arguments of the 0.x ``act(task, ...)``: an attempt's request, spelled out."""

    reflections: Sequence[Reflection]
    lessons: Sequence[Lesson]
    last_attempt: NotRequired[Attempt | None]


class BaseActor(ABC):
    """Makes one attempt at a task, given what earlier failures taught (:class:`AttemptRequest`).

    Override :meth:`attempt` (and :meth:`aattempt` for a native async path). Actors written
    for 0.x override ``act(task, *, reflections, lessons, last_attempt)`` instead: they keep
    working, with a ``DeprecationWarning`` when the class is defined.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "act" in cls.__dict__ and "attempt" not in cls.__dict__:
            warnings.warn(
                f"{cls.__name__} overrides act(task, *, reflections, lessons, last_attempt), "
                "which is deprecated: override attempt(request: AttemptRequest) instead",
                DeprecationWarning,
                stacklevel=2,
            )
            cls.attempt = _attempt_by_act  # type: ignore[method-assign]
            if "aact" in cls.__dict__:
                cls.aattempt = _aattempt_by_aact  # type: ignore[method-assign]

    @property
    def steps(self) -> tuple[str, ...]:
        """The named steps an attempt can take (tool names); none for a plain model call.

        Lessons blamed on one of them are recalled whenever it is in play again.
        """
        return ()

    @abstractmethod
    def attempt(self, request: AttemptRequest) -> str | AttemptResult:
        """Make one attempt: its answer, or an :class:`AttemptResult` with its tool steps."""

    async def aattempt(self, request: AttemptRequest) -> str | AttemptResult:
        """Async twin of :meth:`attempt`; runs it in a worker thread unless overridden."""
        return await asyncio.to_thread(self.attempt, request)

    def act(self, task: str, **spelled_out: Unpack[SpelledOutRequest]) -> str:
        """Deprecated: :meth:`attempt` with the request spelled out; returns the answer."""
        request = _deprecated("act", "attempt", task, spelled_out)
        return as_result(self.attempt(request)).answer

    async def aact(self, task: str, **spelled_out: Unpack[SpelledOutRequest]) -> str:
        """Deprecated: :meth:`aattempt` with the request spelled out; returns the answer."""
        request = _deprecated("aact", "aattempt", task, spelled_out)
        return as_result(await self.aattempt(request)).answer


def _attempt_by_act(self: BaseActor, request: AttemptRequest) -> str:
    """``attempt`` of an actor that overrides the 0.x ``act``."""
    return self.act(
        request.task,
        reflections=request.reflections,
        lessons=request.lessons,
        last_attempt=request.last_attempt,
    )


async def _aattempt_by_aact(self: BaseActor, request: AttemptRequest) -> str:
    """``aattempt`` of an actor that overrides the 0.x ``aact``."""
    return await self.aact(
        request.task,
        reflections=request.reflections,
        lessons=request.lessons,
        last_attempt=request.last_attempt,
    )


def _deprecated(old: str, new: str, task: str, spelled_out: SpelledOutRequest) -> AttemptRequest:
    """The request a 0.x ``act``/``aact`` call spells out, with a warning naming the new call."""
    warnings.warn(
        f"BaseActor.{old}(task, ...) is deprecated: call {new}(AttemptRequest(task=...))",
        DeprecationWarning,
        stacklevel=3,
    )
    return AttemptRequest(
        task=task,
        reflections=spelled_out["reflections"],
        lessons=spelled_out["lessons"],
        last_attempt=spelled_out.get("last_attempt"),
    )


class LLMActor(BaseActor):
    """One chat-model call with the task, recalled lessons and the run's retry context."""

    def __init__(
        self, model: BaseChatModel, *, system_prompt: str = prompts.ACTOR_SYSTEM_PROMPT
    ) -> None:
        self.model = model
        self.system_prompt = system_prompt

    def attempt(self, request: AttemptRequest) -> str:
        """Call the model synchronously."""
        return message_text(self.model.invoke(self.messages(request)).content)

    async def aattempt(self, request: AttemptRequest) -> str:
        """Call the model asynchronously."""
        return message_text((await self.model.ainvoke(self.messages(request))).content)

    def messages(self, request: AttemptRequest) -> list[BaseMessage]:
        """The prompt of one attempt."""
        return build_messages(self.system_prompt, request)


def build_messages(system_prompt: str, request: AttemptRequest) -> list[BaseMessage]:
    """The prompt of one attempt.

    Without a last attempt: the system prompt with recalled lessons and this run's
    reflections, then the task. With one, as a conversation: the task, the failed answer, then
    its feedback and the run's reflections, asking for a corrected answer. The conversation
    keeps the system prompt and the task as a stable prefix (the server's prompt cache reuses
    it).
    """
    system = [system_prompt, *recalled_sections(request.lessons)]
    reflections, last_attempt = request.reflections, request.last_attempt
    if last_attempt is None:
        if reflections:
            system.append(
                prompts.ACTOR_REFLECTIONS_PROMPT.format(reflections=bullet_list(reflections))
            )
        return [SystemMessage("\n\n".join(system)), HumanMessage(request.task)]
    return [
        SystemMessage("\n\n".join(system)),
        HumanMessage(request.task),
        AIMessage(last_attempt["answer"]),
        HumanMessage(retry_prompt(last_attempt["evaluation"], reflections)),
    ]


def retry_prompt(verdict: Evaluation | None, reflections: Sequence[Reflection]) -> str:
    """What a retry is told after its failed answer: the verdict (when shown) and the notes."""
    notes = (
        prompts.ACTOR_RETRY_NOTES_PROMPT.format(reflections=bullet_list(reflections))
        if reflections
        else ""
    )
    if verdict is None:
        return prompts.AGENT_RETRY_PROMPT.format(notes=notes)
    feedback = verdict["feedback"] or prompts.NO_FEEDBACK
    return prompts.ACTOR_RETRY_PROMPT.format(
        feedback=feedback, notes=notes, closing=_closing(verdict)
    )


def _closing(verdict: Evaluation) -> str:
    """The retry's last line: the one answer line where the answer's form failed, else a fix."""
    form_findings = prompts.ANSWER_FORM_FINDINGS.values()
    if any(finding in form_findings for finding in verdict.get("findings") or []):
        return prompts.ACTOR_RETRY_FORM_CLOSING
    return prompts.ACTOR_RETRY_CLOSING


def bullet_list(reflections: Sequence[Reflection]) -> str:
    """The lessons' texts, one ``- `` bullet a line."""
    return "\n".join(f"- {reflection['text']}" for reflection in reflections)


MAX_SHOWN_EVIDENCE_CHARS = 200
"""How much of a recalled lesson's evidence (the check it was learnt from) an attempt sees."""


def recalled_sections(lessons: Sequence[Lesson]) -> list[str]:
    """The system prompt's parts for recalled lessons: the rules, then the evidence.

    Evidence lessons are examples, not rules: they come under a heading of their own. The
    verified changes they keep are listed with the rules ("Return `round(result * 100)` ..."):
    a small model follows a convention it is told as a rule, seldom one it must read off
    another function's values.
    """
    rules = [lesson for lesson in lessons if not is_evidence(lesson)]
    evidence = [lesson for lesson in lessons if is_evidence(lesson)]
    conventions = dict.fromkeys(line for lesson in evidence for line in conventions_of(lesson))
    sections = []
    if rules or conventions:
        told = [prompts.CHECKED_CONVENTION.format(convention=line) for line in conventions]
        listed = "\n".join(filter(None, [lesson_list(rules), *told]))
        sections.append(prompts.ACTOR_LESSONS_PROMPT.format(lessons=listed))
    if evidence:
        examples = "\n".join(f"- {lesson['text']}" for lesson in evidence)
        sections.append(prompts.ACTOR_EVIDENCE_PROMPT.format(examples=examples))
    return sections


def lesson_list(lessons: Sequence[Lesson]) -> str:
    """Recalled lessons, one bullet each, with the check each was learnt from as its example.

    A small model follows a rule it sees applied (ExpeL recalls insights with examples); the
    evidence is another task's failed check, never this task's.
    """
    lines = []
    for lesson in lessons:
        evidence = " ".join(lesson["evidence"].split())
        example = prompts.RECALLED_EXAMPLE.format(evidence=evidence[:MAX_SHOWN_EVIDENCE_CHARS])
        lines.append(f"- {lesson['text']}{example if evidence else ''}")
    return "\n".join(lines)
