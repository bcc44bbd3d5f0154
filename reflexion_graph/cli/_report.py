"""``reflexion-graph memory report``: the lessons a person reads, in the terminal or as a page."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from reflexion_graph._records import Lesson
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.memory._lessons import usefulness

CURVE_WINDOW = 10
"""The share of first attempts that passed is taken over this many episodes at a time."""


@dataclass(frozen=True)
class CurvePoint:
    """The share of the last :data:`CURVE_WINDOW` first attempts that passed, after an episode."""

    episode: int
    lessons: int
    """Lessons stored before that episode began."""
    share: float


def by_use(lessons: Iterable[Lesson]) -> list[Lesson]:
    """Most useful first (then most recalled); the least useful come last."""
    return sorted(
        lessons,
        key=lambda lesson: (-usefulness(lesson["recalls"], lesson["helped"]), -lesson["recalls"]),
    )


def learning_curve(episodes_file: Path, lessons: Sequence[Lesson]) -> list[CurvePoint]:
    """How the first attempts' pass rate moved as lessons accumulated, from an episodes log."""
    if not episodes_file.is_file():
        raise ConfigurationError(f"no episodes log at {str(episodes_file)!r}")
    episodes = []
    for number, line in enumerate(episodes_file.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            episode = json.loads(line)
            first = bool(episode["attempts"][0]["evaluation"]["passed"])
            episodes.append((str(episode["created_at"]), first))
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise ConfigurationError(
                f"{episodes_file}:{number} is not an episode with a judged attempt: {error!r}"
            ) from None
    created = sorted(lesson["created_at"] for lesson in lessons)
    points: list[CurvePoint] = []
    recent: list[bool] = []
    for number, (at, passed) in enumerate(sorted(episodes), 1):
        recent = [*recent[-(CURVE_WINDOW - 1) :], passed]
        stored = sum(when < at for when in created)
        points.append(CurvePoint(number, stored, sum(recent) / len(recent)))
    return points


# -- the terminal -----------------------------------------------------------------------
def print_report(
    console: Console, scopes: dict[str, list[Lesson]], curve: Sequence[CurvePoint]
) -> None:
    """Each scope's lessons, most useful first, then the curve at a few of its points."""
    for scope, lessons in scopes.items():
        table = Table(title=f"scope {scope!r}: {len(lessons)} lesson(s), most useful first")
        for column in ("id", "lesson", "learnt from", "evidence", "recalls", "helped", "use"):
            table.add_column(column, overflow="fold")
        table.add_column("state")
        for lesson in by_use(lessons):
            table.add_row(*_cells(lesson))
        console.print(table)
    if curve:
        table = Table(title=f"first attempts that passed (last {CURVE_WINDOW} episodes)")
        for column in ("episode", "lessons stored by then", "share passed"):
            table.add_column(column, justify="right")
        step = max(1, len(curve) // 8)
        for point in [*curve[::step][:-1], curve[-1]]:
            table.add_row(str(point.episode), str(point.lessons), f"{point.share:.0%}")
        console.print(table)


def _cells(lesson: Lesson) -> list[str]:
    recalls, helped = lesson["recalls"], lesson["helped"]
    return [
        lesson["id"][:8],
        lesson["text"],
        f"{lesson['source']}: {lesson['task'][:80]}",
        _evidence(lesson)[:300],
        str(recalls),
        str(helped),
        f"{usefulness(recalls, helped):.2f}",
        lesson.get("state", "active"),
    ]


def _evidence(lesson: Lesson) -> str:
    """The failed check it was learnt from, and the verified change where it has one."""
    conventions = str(lesson["metadata"].get("conventions", "") or "")
    return "; ".join(part for part in (lesson["evidence"], conventions) if part)


# -- the page ---------------------------------------------------------------------------
_STYLE = """
body { font-family: DejaVu Sans, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; width: 100%; }
th { background: #2f4b7c; color: #fff; text-align: left; }
th, td { padding: 4px 8px; border-bottom: 1px solid #ccc; vertical-align: top; }
td.n { text-align: right; }
tr.retired, tr.pruned, tr.rejected { color: #999; }
svg { border: 1px solid #ccc; }
"""


def html_report(scopes: dict[str, list[Lesson]], curve: Sequence[CurvePoint], where: str) -> str:
    """One self-contained page: per scope the lessons (most useful first) and the curve."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Lesson memory</title><style>{_STYLE}</style></head><body>",
        f"<h1>Lesson memory</h1><p>{html.escape(where)}</p>",
        _curve_svg(curve),
    ]
    header = "".join(
        f"<th>{name}</th>"
        for name in ("id", "lesson", "learnt from", "evidence", "recalls", "helped", "use")
    )
    for scope, lessons in scopes.items():
        parts.append(f"<h2>scope {html.escape(scope)}: {len(lessons)} lesson(s)</h2>")
        parts.append(f"<table><thead><tr>{header}<th>state</th></tr></thead><tbody>")
        for lesson in by_use(lessons):
            cells = _cells(lesson)
            row = "".join(
                f"<td class='n'>{html.escape(cell)}</td>"
                if 4 <= index <= 6
                else f"<td>{html.escape(cell)}</td>"
                for index, cell in enumerate(cells)
            )
            parts.append(f"<tr class='{html.escape(cells[-1])}'>{row}</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _curve_svg(curve: Sequence[CurvePoint]) -> str:
    """The share of first attempts passed per episode, a mark where lessons were added."""
    if not curve:
        return "<p>No episodes log given (--episodes): no learning curve.</p>"
    width, height, pad = 640, 240, 40
    last = max(len(curve) - 1, 1)

    def x(index: int) -> float:
        return pad + (width - 2 * pad) * index / last

    def y(share: float) -> float:
        return height - pad - (height - 2 * pad) * share

    line = " ".join(f"{x(i):.1f},{y(point.share):.1f}" for i, point in enumerate(curve))
    marks = "".join(
        f"<line x1='{x(i):.1f}' y1='{pad}' x2='{x(i):.1f}' y2='{height - pad}' "
        f"stroke='#999' stroke-dasharray='4 3'/><text x='{x(i) + 3:.1f}' y='{pad + 12}' "
        f"font-size='11' fill='#666'>{point.lessons} lessons</text>"
        for i, point in enumerate(curve)
        if i and point.lessons != curve[i - 1].lessons
    )
    axes = (
        f"<line x1='{pad}' y1='{height - pad}' x2='{width - pad}' y2='{height - pad}' "
        "stroke='#444'/>"
        f"<line x1='{pad}' y1='{pad}' x2='{pad}' y2='{height - pad}' stroke='#444'/>"
        f"<text x='{pad - 4}' y='{y(1.0) + 4:.1f}' font-size='11' text-anchor='end'>100%</text>"
        f"<text x='{pad - 4}' y='{y(0.0) + 4:.1f}' font-size='11' text-anchor='end'>0%</text>"
        f"<text x='{width - pad}' y='{height - pad + 16}' font-size='11' text-anchor='end'>"
        f"episode {len(curve)}</text>"
    )
    return (
        f"<h2>First attempts that passed (last {CURVE_WINDOW} episodes), "
        "marked where lessons were added</h2>"
        f"<svg id='curve' width='{width}' height='{height}' xmlns='http://www.w3.org/2000/svg'>"
        f"{axes}{marks}"
        f"<polyline fill='none' stroke='#d62728' stroke-width='3' points='{line}'/></svg>"
    )
