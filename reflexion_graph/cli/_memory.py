"""``reflexion-graph memory``: inspect and maintain the lesson memory."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from reflexion_graph._records import Lesson
from reflexion_graph.cli._report import html_report, learning_curve, print_report
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.loop._settings import ReflexionContext
from reflexion_graph.memory import ChromaLessonMemory
from reflexion_graph.memory._lessons import DECIDED, usefulness


def add_memory_arguments(group: Any) -> None:
    """Options that choose the memory, shared by ``run`` and ``memory``."""
    group.add_argument("--memory-dir", help="memory folder [REFLEXION_GRAPH_MEMORY_DIR]")
    group.add_argument("--chroma-host", help="use a 'chroma run' server at this host instead")
    group.add_argument("--chroma-port", type=int, default=8000, help="its port (default 8000)")
    scope = ReflexionContext().memory_scope
    group.add_argument("--scope", default=scope, help=f"memory scope / tenant (default {scope})")


def open_memory(args: argparse.Namespace, *, review: bool = False) -> ChromaLessonMemory:
    """The memory the options point at (``review``: new lessons wait for a person)."""
    if args.memory_dir and args.chroma_host:
        raise ConfigurationError("give --memory-dir or --chroma-host, not both")
    if args.chroma_host:
        return ChromaLessonMemory(host=args.chroma_host, port=args.chroma_port, review=review)
    return ChromaLessonMemory(path=args.memory_dir, review=review)


def add_parser(commands: Any) -> None:
    """Register the ``memory`` actions: read, review, trace, take back and report lessons."""
    parser = commands.add_parser(
        "memory",
        help="inspect and maintain the lesson memory",
        description="Inspect and maintain the lesson memory.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help_text in (
        ("list", "show stored lessons"),
        ("stats", "counts per scope"),
        ("export", "write every lesson as JSONL to stdout"),
    ):
        action = actions.add_parser(name, help=help_text)
        add_memory_arguments(action)
        action.set_defaults(handler=_HANDLERS[name])
    search = actions.add_parser("search", help="lessons relevant to a task")
    search.add_argument("query", help="a task text")
    search.add_argument("-k", type=int, default=5, help="how many (default 5)")
    add_memory_arguments(search)
    search.set_defaults(handler=_search)
    review = actions.add_parser("review", help="lessons waiting for review (never recalled yet)")
    add_memory_arguments(review)
    review.set_defaults(handler=_review)
    for name, help_text in (
        ("approve", "let pending lessons be recalled"),
        ("reject", "keep pending lessons, never recalled"),
        ("restore", "bring back retired, rejected or pruned lessons"),
    ):
        decide = actions.add_parser(name, help=help_text)
        decide.add_argument("ids", nargs="+", metavar="ID", help="a lesson id, or its start")
        _add_who_and_why(decide)
        add_memory_arguments(decide)
        decide.set_defaults(handler=_decide, decision=name)
    history = actions.add_parser("history", help="every change to the lessons, oldest first")
    history.add_argument("id", nargs="?", metavar="ID", help="one lesson's (its id, or its start)")
    add_memory_arguments(history)
    history.set_defaults(handler=_history)
    prune = actions.add_parser("prune", help="hide lessons that have not helped (restorable)")
    prune.add_argument(
        "--max-usefulness",
        type=float,
        default=0.25,
        help="prune lessons at or below this usefulness (default 0.25)",
    )
    prune.add_argument(
        "--min-recalls",
        type=int,
        default=3,
        help="only lessons recalled at least this often (default 3)",
    )
    prune.add_argument("--dry-run", action="store_true", help="show what would be pruned")
    prune.add_argument(
        "--purge", action="store_true", help="delete them, and those pruned before, for good"
    )
    _add_who_and_why(prune)
    add_memory_arguments(prune)
    prune.set_defaults(handler=_prune)
    report = actions.add_parser("report", help="the lessons, most useful first, and their effect")
    report.add_argument("--html", metavar="FILE", help="write one self-contained page instead")
    report.add_argument(
        "--episodes", metavar="FILE", help="an episodes log (run --episodes) for the curve"
    )
    add_memory_arguments(report)
    report.set_defaults(handler=_report)


def _add_who_and_why(parser: Any) -> None:
    parser.add_argument("--by", help="who decides (default: the system user)")
    parser.add_argument("--reason", default="", help="why, kept in the history")


def _lesson_table(lessons: list[Lesson], *, similarity: bool = False) -> Table:
    table = Table(show_lines=False)
    for column in ("id", "lesson", "from task", "source", "recalls", "helped", "use"):
        table.add_column(column, overflow="fold")
    if similarity:
        table.add_column("sim")
    for lesson in lessons:
        recalls, helped = lesson["recalls"], lesson["helped"]
        row = [
            lesson["id"][:8],
            lesson["text"],
            lesson["task"][:60],
            _source(lesson),
            str(recalls),
            str(helped),
            f"{usefulness(recalls, helped):.2f}" + _unless_active(lesson),
        ]
        if similarity:
            row.append(f"{lesson['similarity']:.2f}")
        table.add_row(*row)
    return table


def _unless_active(lesson: Lesson) -> str:
    """The lesson's state, when it is not recalled."""
    state = lesson.get("state", "active")
    return "" if state == "active" else f" {state}"


def _source(lesson: Lesson) -> str:
    """Where a lesson came from, with its replay verdict when it had one."""
    replay = "" if lesson["replay"] == "none" else f", replay {lesson['replay']}"
    return lesson["source"] + replay


def _list(args: argparse.Namespace, console: Console) -> int:
    lessons = list(open_memory(args).lessons(scope=args.scope))
    console.print(_lesson_table(lessons))
    console.print(f"{len(lessons)} lesson(s) in scope {args.scope!r}")
    return 0


def _search(args: argparse.Namespace, console: Console) -> int:
    found = open_memory(args).search(args.query, k=args.k, scope=args.scope)
    if not found:
        console.print("no relevant lessons")
        return 0
    console.print(_lesson_table(found, similarity=True))
    return 0


def _stats(args: argparse.Namespace, console: Console) -> int:
    memory = open_memory(args)
    lessons = list(memory.lessons())
    scopes = Counter(lesson["scope"] for lesson in lessons)
    table = Table("scope", "lessons", "recalls", "helped", "verified by replay")
    for scope, count in sorted(scopes.items()):
        own = [lesson for lesson in lessons if lesson["scope"] == scope]
        table.add_row(
            scope,
            str(count),
            str(sum(lesson["recalls"] for lesson in own)),
            str(sum(lesson["helped"] for lesson in own)),
            str(sum(lesson["replay"] == "passed" for lesson in own)),
        )
    console.print(table)
    console.print(f"{len(lessons)} lesson(s) at {memory.location}")
    return 0


def _export(args: argparse.Namespace, console: Console) -> int:
    for lesson in open_memory(args).lessons():
        sys.stdout.write(json.dumps(lesson) + "\n")
    return 0


def _review(args: argparse.Namespace, console: Console) -> int:
    pending = open_memory(args).pending(scope=args.scope)
    table = Table("id", "lesson", "from task", "source", "evidence", show_lines=False)
    for lesson in pending:
        row = (lesson["id"], lesson["text"], lesson["task"][:60], _source(lesson))
        table.add_row(*row, lesson["evidence"][:200])
    console.print(table)
    console.print(f"{len(pending)} lesson(s) pending review in scope {args.scope!r}")
    return 0


def _decide(args: argparse.Namespace, console: Console) -> int:
    memory = open_memory(args)
    known = [lesson["id"] for lesson in memory.lessons(scope=args.scope)]
    ids = [_full_id(given, known, args.scope) for given in args.ids]
    memory.decide(ids, args.decision, scope=args.scope, by=args.by, reason=args.reason)
    console.print(f"{DECIDED[args.decision]} {len(ids)} lesson(s) in scope {args.scope!r}")
    return 0


def _full_id(given: str, known: Iterable[str], scope: str) -> str:
    """The stored id that ``given`` is, or is the unique start of.

    One that starts no id is passed on as given: the memory says whether it was never
    there or was purged.
    """
    matches = sorted({lesson_id for lesson_id in known if lesson_id.startswith(given)})
    if given in matches or not matches:
        return given
    if len(matches) == 1:
        return matches[0]
    raise ConfigurationError(f"{given!r} starts {len(matches)} lessons' ids: give more of it")


def _history(args: argparse.Namespace, console: Console) -> int:
    memory = open_memory(args)
    events = memory.history(scope=args.scope)
    if args.id:
        lesson_id = _full_id(args.id, (event["lesson"] for event in events), args.scope)
        events = memory.history(scope=args.scope, lesson_id=lesson_id)
    table = Table("at", "lesson", "event", "by", "reason", "adds")
    for event in events:
        counts = {"recalls": event["recalls"], "helped": event["helped"], "merged": event["merged"]}
        adds = ", ".join(f"{key} +{count}" for key, count in counts.items() if count)
        row = (event["at"][:19] or "(before history)", event["lesson"][:8], event["kind"])
        table.add_row(*row, event["by"], event["reason"], adds)
    console.print(table)
    console.print(f"{len(events)} event(s) in scope {args.scope!r}")
    return 0


def _prune(args: argparse.Namespace, console: Console) -> int:
    memory = open_memory(args)
    stored = list(memory.lessons(scope=args.scope))
    doomed = [
        lesson["id"]
        for lesson in stored
        if lesson["recalls"] >= args.min_recalls
        and usefulness(lesson["recalls"], lesson["helped"]) <= args.max_usefulness
        and lesson.get("state") != "pruned"
    ]
    if args.purge:
        doomed += [lesson["id"] for lesson in stored if lesson.get("state") == "pruned"]
    action = memory.purge if args.purge else memory.prune
    if not args.dry_run:
        action(doomed, scope=args.scope, by=args.by, reason=args.reason or _criteria(args))
    verb = "purged" if args.purge else "pruned"
    console.print(
        f"{'would have ' if args.dry_run else ''}{verb} {len(doomed)} lesson(s) "
        f"from scope {args.scope!r}"
    )
    return 0


def _criteria(args: argparse.Namespace) -> str:
    return f"usefulness <= {args.max_usefulness} after >= {args.min_recalls} recalls"


def _report(args: argparse.Namespace, console: Console) -> int:
    memory = open_memory(args)
    scopes = {scope: list(memory.lessons(scope=scope)) for scope in memory.scopes()}
    everything = [lesson for lessons in scopes.values() for lesson in lessons]
    curve = learning_curve(Path(args.episodes), everything) if args.episodes else []
    if not args.html:
        print_report(console, scopes, curve)
        return 0
    Path(args.html).write_text(html_report(scopes, curve, memory.location), encoding="utf-8")
    console.print(f"wrote the report of {len(everything)} lesson(s) to {args.html}")
    return 0


_HANDLERS = {"list": _list, "stats": _stats, "export": _export}
