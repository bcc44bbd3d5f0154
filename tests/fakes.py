"""Scripted stand-ins for fast unit tests of the loop logic (never used by integration tests)."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from reflexion_graph import BaseLessonMemory, Lesson


class ScriptedChatModel(BaseChatModel):
    """Answers with the scripted replies in order and records every prompt it was sent."""

    replies: list[str | AIMessage]
    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    tokens_per_call: int = 10

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        if len(self.prompts) >= len(self.replies):
            raise AssertionError(f"script exhausted after {len(self.replies)} replies")
        reply = self.replies[len(self.prompts)]
        self.prompts.append(list(messages))
        scripted = reply if isinstance(reply, AIMessage) else AIMessage(reply)
        message = AIMessage(
            scripted.content,
            tool_calls=scripted.tool_calls,
            usage_metadata={
                "input_tokens": self.tokens_per_call,
                "output_tokens": 1,
                "total_tokens": self.tokens_per_call + 1,
                "input_token_details": {"cache_read": 0},  # as langchain-openai reports it
            },
            response_metadata={"model_name": "scripted"},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedChatModel:
        return self

    def prompt_text(self, call: int) -> str:
        """All message contents of the given call, joined."""
        return "\n".join(str(m.content) for m in self.prompts[call])


class RecordingMemory(BaseLessonMemory):
    """A list-backed memory that records how the graph used it."""

    def __init__(self, stored: Sequence[Lesson] = ()) -> None:
        self.stored: dict[str, list[Lesson]] = {"global": list(stored)}
        self.searches: list[tuple[str, int, str]] = []
        self.usage: list[tuple[list[str], bool, str]] = []

    def search(self, task: str, *, k: int, scope: str) -> list[Lesson]:
        self.searches.append((task, k, scope))
        return self.stored.get(scope, [])[:k]

    def save(self, lessons: Sequence[Lesson], *, scope: str) -> int:
        self.stored.setdefault(scope, []).extend(lessons)
        return len(lessons)

    def record_usage(self, ids: Sequence[str], *, passed: bool, scope: str) -> None:
        self.usage.append((list(ids), passed, scope))


class BagOfWordsEmbeddings(Embeddings):
    """Hashed bag-of-words vectors: texts that share words are similar, and nothing loads."""

    size: int = 384

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        vector = [0.0] * self.size
        for word in re.findall(r"\w+", text.lower()):
            vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.size] += 1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return [x / norm for x in vector]
