"""Episodes: one finished run as a JSON record, the raw material of the training exports."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from typing_extensions import TypedDict

from reflexion_graph._records import Attempt, Reflection
from reflexion_graph._usage import TokenUsage
from reflexion_graph.errors import ConfigurationError


class Episode(TypedDict):
    """Task, every attempt with its verdict, every reflection with its exact prompt, model id."""

    id: str
    task: str
    model: str
    attempts: list[Attempt]
    reflections: list[Reflection]
    recalled_ids: list[str]
    stop_reason: str | None
    usage: TokenUsage
    created_at: str


def episode_from_state(state: Mapping[str, Any], *, model: str) -> Episode:
    """The episode of a finished run, from the graph's final state."""
    return Episode(
        id=uuid.uuid4().hex,
        task=state["task"],
        model=model,
        attempts=list(state.get("attempts") or []),
        reflections=list(state.get("reflections") or []),
        recalled_ids=[lesson["id"] for lesson in state.get("recalled") or []],
        stop_reason=state.get("stop_reason"),
        usage=state["usage"],
        created_at=datetime.now(UTC).isoformat(),
    )


class EpisodeLog:
    """Appends episodes to a JSONL file (thread-safe within a process)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def write(self, episode: Episode) -> None:
        """Append one episode."""
        line = json.dumps(episode, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)


def read_episodes(path: str | Path) -> Iterator[Episode]:
    """Every episode in a log; a malformed line is an error naming its number."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ConfigurationError(f"cannot read episode log {str(path)!r}: {error}") from error
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            episode = json.loads(line)
        except json.JSONDecodeError as error:
            raise ConfigurationError(f"{path}:{number}: not valid JSON ({error.msg})") from error
        if not isinstance(episode, dict) or "attempts" not in episode or "task" not in episode:
            raise ConfigurationError(f"{path}:{number}: not an episode record")
        yield episode  # type: ignore[misc]
