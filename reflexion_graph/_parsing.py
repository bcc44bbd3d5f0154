"""Lenient parsing of small-model output: never raises on malformed text."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage

CLOSING_FENCE = "\n```\n"
"""The end of a fenced code block; an opening fence names its language, so it never matches:
generation can stop here once the answer's block is complete."""

_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_ANSWER_LINE = re.compile(r"\banswer\s*(?:is\s*)?[:=]\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


def extract_code(text: str) -> str:
    """Return the Python code in ``text``: the longest fenced block, else the whole text."""
    blocks = [
        body
        for lang, body in _FENCE.findall(text)
        if lang.lower() in ("", "python", "py", "python3")
    ]
    if not blocks:
        return text.strip()
    return str(max(blocks, key=len)).strip()


def extract_final_answer(text: str) -> str:
    """Return the value after the last ``Answer:`` marker, else the last non-empty line.

    Stacked markers (``The answer is: Answer: Paris``) are all taken off.
    """
    matches = _ANSWER_LINE.findall(text)
    if matches:
        value = str(matches[-1]).strip()
        while inner := _ANSWER_LINE.fullmatch(value):
            value = inner.group(1).strip()
        return value
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def extract_json(text: str) -> Any | None:
    """The first JSON object or array in ``text`` (fenced or inline), else ``None``."""
    decoder = json.JSONDecoder()
    for start, char in enumerate(text):
        if char in "{[":
            try:
                value, _ = decoder.raw_decode(text, start)
            except json.JSONDecodeError:
                continue
            return value
    return None


def has_answer_marker(text: str) -> bool:
    """Whether ``text`` states its final answer with an ``Answer:`` marker."""
    return _ANSWER_LINE.search(text) is not None


def message_text(content: object) -> str:
    """Flatten a LangChain message ``content`` (string or content blocks) to plain text."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return str(content)
    parts: list[str] = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


def last_human_text(messages: Sequence[BaseMessage], *, unless_tagged: str = "") -> str | None:
    """The text of the last human message (not one whose ``additional_kwargs`` hold the tag)."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage) and unless_tagged not in message.additional_kwargs:
            return message_text(message.content)
    return None


def parse_call(answer: str) -> tuple[str, dict[str, Any]] | None:
    """``(name, arguments)`` of the first tool call in ``answer`` (JSON or Python syntax)."""
    value = extract_json(answer)
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        arguments = value.get("arguments", value.get("parameters", {}))
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except json.JSONDecodeError:
                return None
        return (value["name"], dict(arguments)) if isinstance(arguments, dict) else None
    for match in re.finditer(r"[A-Za-z_][\w.]*\(.*\)", answer):
        try:
            node = ast.parse(match.group(0), mode="eval").body
        except SyntaxError:
            continue
        if isinstance(node, ast.Call) and not node.args:
            try:
                arguments = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
            except ValueError:
                continue
            return ast.unparse(node.func), arguments
    return None
