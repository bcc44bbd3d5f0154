"""Live terminal display of a run and its summary table (rich)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.status import Status
from rich.table import Table
from rich.text import Text

from reflexion_graph._parsing import extract_code
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.tasks import TaskSpec

_PREVIEW_LINES = 6
_REFLECTION_CHARS = 300


@dataclass
class TaskResult:
    """The outcome of one task, for the summary table and the JSON file."""

    id: str
    passed: bool
    attempts: int
    recalled: int
    solved_at: int | None
    best_score: float
    stop_reason: str
    total_tokens: int
    seconds: float
    reflections: list[str] = field(default_factory=list)

    @classmethod
    def from_state(cls, task_id: str, state: dict[str, Any], seconds: float) -> TaskResult:
        """Summarise a finished run's final state."""
        attempts = state.get("attempts") or []
        solved = [a["number"] for a in attempts if a["evaluation"]["passed"]]
        best = state.get("best")
        return cls(
            id=task_id,
            passed=bool(solved),
            attempts=len(attempts),
            recalled=len(state.get("recalled") or []),
            solved_at=solved[0] if solved else None,
            best_score=best["evaluation"]["score"] if best else 0.0,
            stop_reason=state.get("stop_reason") or "",
            total_tokens=(state.get("usage") or {}).get("total_tokens", 0),
            seconds=round(seconds, 2),
            reflections=[r["text"] for r in state.get("reflections") or []],
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


class RunDisplay:
    """Prints each attempt, verdict and reflection as the graph streams them."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._status: Status | None = None
        self._attempt = 0
        self._recalled: list[dict[str, Any]] = []
        self._first_passed = False

    @contextmanager
    def status(self, message: str) -> Iterator[None]:
        """A spinner while something slow runs (silent when not a terminal)."""
        with self.console.status(message) as status:
            self._status = status
            try:
                yield
            finally:
                self._status = None

    def header(self, count: int, model: str, max_attempts: int) -> None:
        """Say what is about to run."""
        self.console.rule(
            f"reflexion-graph · {count} task(s) · model {model} · "
            f"up to {max_attempts} attempts each"
        )

    @property
    def attempt(self) -> int:
        """Attempts shown so far for the current task."""
        return self._attempt

    def ask_human(self, request: dict[str, Any]) -> object:
        """Show a human evaluator's question and read the verdict from the terminal."""
        self.console.print(Text(f"  ? {request.get('question', 'Your verdict?')}", style="yellow"))
        try:
            reply = self.console.input("    pass (y), fail (n) or a score 0..1, then feedback: ")
        except EOFError:
            raise ConfigurationError(
                "the human evaluator needs an interactive terminal to answer on"
            ) from None
        verdict, _, feedback = reply.strip().partition(" ")
        if verdict.lower() in ("y", "yes"):
            return {"passed": True, "feedback": feedback}
        if verdict.lower() in ("n", "no"):
            return {"passed": False, "feedback": feedback}
        try:
            score = float(verdict)
        except ValueError:
            raise ConfigurationError(f"expected y, n or a score, got {verdict!r}") from None
        return {"passed": score >= 1.0, "score": score, "feedback": feedback}

    def task_started(self, spec: TaskSpec) -> None:
        """Announce a task."""
        self._attempt = 0
        self.console.print()
        self.console.print(Text.assemble(("■ ", "bold cyan"), (spec.id, "bold"), ": ", spec.task))

    def step(self, spec: TaskSpec, update: dict[str, Any]) -> None:
        """Show one node's update."""
        for node, values in update.items():
            if not values:
                continue
            if node == "recall":
                self._show_recalled(values.get("recalled") or [])
            elif node == "finalize":
                self._show_credit()
            elif node == "hindsight":
                self._show_learned(values.get("learned") or [])
            elif node == "actor":
                self._attempt += 1
                self._show_answer(values["answer"])
                self._set_status(f"{spec.id}: evaluating attempt {self._attempt}")
            elif node == "evaluate":
                verdict = values["attempts"][-1]["evaluation"]
                if self._attempt == 1:
                    self._first_passed = bool(verdict["passed"])
                self._show_verdict(verdict)
                self._set_status(f"{spec.id}: reflecting")
            elif node == "reflect":
                reflection = values["reflections"][-1]
                why = _FALLBACK_NOTES.get(str(reflection["metadata"].get("fallback_reason", "")))
                self.console.print(
                    Text.assemble(
                        ("  reflection: ", "magenta"),
                        _clip(reflection["text"], _REFLECTION_CHARS),
                        (f"  ({why})" if why else "", "dim"),
                    )
                )
                self._set_status(f"{spec.id}: attempt {self._attempt + 1}")

    def summary(self, results: list[TaskResult], seconds: float) -> None:
        """Print the table of results and the totals."""
        table = Table(title="Summary", title_justify="left")
        columns = (
            "task",
            "result",
            "attempts",
            "recalled",
            "best score",
            "stop",
            "tokens",
            "seconds",
        )
        for column in columns:
            table.add_column(
                column, justify="left" if column == "task" else "right", overflow="fold"
            )
        for result in results:
            verdict = f"[green]passed @{result.solved_at}[/]" if result.passed else "[red]failed[/]"
            table.add_row(
                result.id,
                verdict,
                str(result.attempts),
                str(result.recalled),
                f"{result.best_score:.2f}",
                result.stop_reason,
                str(result.total_tokens),
                f"{result.seconds:.1f}",
            )
        self.console.print()
        self.console.print(table)
        passed = sum(r.passed for r in results)
        after_reflection = sum(1 for r in results if r.solved_at and r.solved_at > 1)
        attempts = sum(r.attempts for r in results)
        self.console.print(
            f"passed {passed}/{len(results)} · solved after a reflection: {after_reflection} · "
            f"attempts: {attempts} · wall time {seconds:.1f} s"
        )
        with_lessons = [r for r in results if r.recalled]
        if with_lessons:
            helped = sum(r.passed for r in with_lessons)
            self.console.print(
                f"recalled lessons were used on {len(with_lessons)} task(s); {helped} passed"
            )

    def _show_recalled(self, recalled: list[dict[str, Any]]) -> None:
        self._recalled = recalled
        for lesson in recalled:
            kind = "recalled evidence: " if lesson.get("source") == "evidence" else "recalled: "
            self.console.print(
                Text.assemble(
                    (f"  {kind}", "blue"),
                    _clip(lesson["text"], 160),
                    (
                        f"  (from {_clip(lesson['task'], 50)!r}, "
                        f"similarity {lesson['similarity']:.2f}, "
                        f"helped {lesson['helped']}/{lesson['recalls']})",
                        "dim",
                    ),
                )
            )

    def _show_credit(self) -> None:
        """Recalled lessons helped only if the attempt that saw them first passed."""
        if not self._recalled:
            return
        verdict = (
            "helped: the first attempt, which saw them, passed"
            if self._first_passed
            else "did not help: the first attempt, which saw them, failed"
        )
        self.console.print(
            Text(f"  recalled lessons {verdict}; their usefulness is updated", style="blue")
        )

    def _show_learned(self, learned: list[dict[str, Any]]) -> None:
        """Each hindsight lesson the run wrote, and whether its replay let it be stored."""
        for lesson in learned:
            replay = lesson["replay"]
            style, verdict = _REPLAY_VERDICTS.get(replay, ("dim", str(replay)))
            self.console.print(
                Text.assemble(
                    ("  hindsight lesson: ", "cyan"),
                    _clip(lesson["text"], 200),
                    (f"  ({verdict})", style),
                )
            )

    def _show_answer(self, answer: str) -> None:
        code = extract_code(answer)
        lines = (code or answer).strip().splitlines()
        preview = "\n".join("    " + line for line in lines[:_PREVIEW_LINES])
        more = (
            f"\n    … {len(lines) - _PREVIEW_LINES} more lines"
            if len(lines) > _PREVIEW_LINES
            else ""
        )
        self.console.print(Text(f"  attempt {self._attempt}:", style="bold"))
        self.console.print(Text(preview + more, style="dim"))

    def _show_verdict(self, evaluation: dict[str, Any]) -> None:
        if evaluation["passed"]:
            self.console.print(Text(f"  ✓ passed (score {evaluation['score']:.2f})", style="green"))
            return
        first = (evaluation["feedback"] or "").strip().splitlines()[:2]
        self.console.print(
            Text.assemble(
                (f"  ✗ failed (score {evaluation['score']:.2f}) ", "red"),
                _clip(" · ".join(first), 240),
            )
        )

    def _set_status(self, message: str) -> None:
        if self._status is not None:
            self._status.update(message)


_FALLBACK_NOTES = {
    "found": "no model call: the verdict's findings are the lesson",
    "empty": "the model wrote no lesson: the verdict's feedback is kept",
    "repeated": "the model repeated an earlier lesson twice: the verdict's feedback is kept",
}
_REPLAY_VERDICTS = {
    "passed": ("green", "a fresh attempt shown only this lesson passed: stored"),
    "failed": ("red", "a fresh attempt shown only this lesson failed: not stored"),
    "refused": ("red", "gives the solution away: not stored"),
    "off": ("yellow", "stored without a replay"),
}


def _clip(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
