"""What transferred between the tasks of a family (the families benchmark's report).

Task 1 of a family is where a failure can reveal its convention; tasks 2 on are where a lesson
can help. Transfer is the first-attempt pass rate on those later tasks: nothing but what the
lane brought to the task (recalled lessons, or the oracle's statement) can raise it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from reflexion_graph.bench._families import Family, family_of, position_of
from reflexion_graph.bench._lanes import (
    EVERY_FAILURE,
    FAMILY_LESSONS,
    LANES,
    MEMORY,
    ORACLE,
    REFLEXION,
    REPLAY_UNSOLVED,
    RETRY,
)
from reflexion_graph.bench._report import Records, mcnemar_exact, paired_row, summary_rows

BASELINE = REFLEXION
"""The lane without memory that transfer is measured against."""
MEMORY_LANES = tuple(lane.name for lane in LANES if lane.keeps_memory)
_EVIDENCE_LANES = tuple(lane.name for lane in LANES if lane.recall_evidence)
_PAIRS = (
    *((lane, other) for lane in _EVIDENCE_LANES for other in (BASELINE, MEMORY, ORACLE)),
    (MEMORY, BASELINE),
    (REPLAY_UNSOLVED, BASELINE),
    (REPLAY_UNSOLVED, MEMORY),
    (REPLAY_UNSOLVED, ORACLE),
    (MEMORY, EVERY_FAILURE),
    (EVERY_FAILURE, BASELINE),
    (MEMORY, ORACLE),
    (MEMORY, FAMILY_LESSONS),
    (FAMILY_LESSONS, BASELINE),
    (MEMORY, RETRY),
    (ORACLE, BASELINE),
)


def later_tasks(by_task: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The records of tasks 2 on of their family."""
    return {task: record for task, record in by_task.items() if position_of(task) > 1}


def transfer_rows(records: Records) -> list[dict[str, Any]]:
    """Per lane: first-attempt and within-budget pass rates on tasks 2 on, and on all tasks."""
    rows = []
    for strategy, by_task in records.items():
        later = list(later_tasks(by_task).values())
        if not later:
            continue
        rows.append(
            {
                "strategy": strategy,
                "later_tasks": len(later),
                "transfer_at_1": sum(r["success_at"][0] for r in later) / len(later),
                "later_at_budget": sum(r["success_at"][-1] for r in later) / len(later),
                "all_at_budget": sum(r["success_at"][-1] for r in by_task.values()) / len(by_task),
            }
        )
    return rows


def transfer_pairs(records: Records) -> list[dict[str, Any]]:
    """Paired first-attempt results on tasks 2 on: memory vs no memory, vs oracle, ..."""
    first_try = {
        strategy: {t: bool(r["success_at"][0]) for t, r in later_tasks(by_task).items()}
        for strategy, by_task in records.items()
    }
    return [
        paired_row(a, b, first_try[a], first_try[b])
        for a, b in _PAIRS
        if a in first_try and b in first_try
    ]


def oracle_gain_recovered(records: Records, lane: str = MEMORY) -> float | None:
    """(memory - no memory) / (oracle - no memory) on first-attempt transfer; None if no gain."""
    rates = {row["strategy"]: row["transfer_at_1"] for row in transfer_rows(records)}
    return _share_of_ceiling(rates, lane)


def pooled_transfer(runs: Sequence[Records]) -> dict[str, Any]:
    """Transfer over several runs (seeds), pooled over the lanes every run has.

    Rates are over all the runs' later tasks; paired counts are summed within runs (a task is
    paired with itself in the same seed only) and tested with one exact McNemar; cost is the
    runs' tokens and seconds over the tasks they solved within budget. A lane missing from a
    run is left out: its rate would be set against a baseline and ceiling of other seeds. Rates
    and pairs take, in each run, only the tasks every lane ran (a run still in progress has
    lanes at different tasks); where transfer is lost is read off each lane's whole record.
    """
    shared = _in_every(set(records) for records in runs)
    runs = [{lane: records[lane] for lane in records if lane in shared} for records in runs]
    common = [_tasks_every_lane_ran(records) for records in runs]
    return {
        "runs": len(runs),
        "lanes": _pooled_lanes(common),
        "pairs": _pooled_pairs(common),
        "where_lost": _pooled_reach(runs),
    }


def _tasks_every_lane_ran(records: Records) -> Records:
    """The records cut down to the tasks that every lane has a record of."""
    tasks = _in_every(set(by_task) for by_task in records.values())
    return {
        lane: {task: record for task, record in by_task.items() if task in tasks}
        for lane, by_task in records.items()
    }


def _in_every(keys: Iterable[set[str]]) -> set[str]:
    """The keys that every one of the sets holds (none for no sets)."""
    sets = list(keys)
    return set.intersection(*sets) if sets else set()


def _pooled_lanes(runs: Sequence[Records]) -> list[dict[str, Any]]:
    """Per lane: first-attempt transfer over every run's later tasks, its cost per solved."""
    passed: dict[str, int] = defaultdict(int)
    later: dict[str, int] = defaultdict(int)
    tokens: dict[str, int] = defaultdict(int)
    seconds: dict[str, float] = defaultdict(float)
    solved: dict[str, int] = defaultdict(int)
    for records in runs:
        for lane, by_task in records.items():
            for record in later_tasks(by_task).values():
                later[lane] += 1
                passed[lane] += bool(record["success_at"][0])
        for row in summary_rows(records, attempts=1):
            lane = row["strategy"]
            tokens[lane] += row["input_tokens"] + row["output_tokens"]
            seconds[lane] += row["seconds"]
            solved[lane] += row["solved"]
    rates = {lane: passed[lane] / count for lane, count in later.items() if count}
    return [
        {
            "strategy": lane,
            "later_tasks": later[lane],
            "transfer_at_1": rate,
            "oracle_gain_recovered": _share_of_ceiling(rates, lane),
            "tokens_per_solved": tokens[lane] / solved[lane] if solved[lane] else None,
            "seconds_per_solved": seconds[lane] / solved[lane] if solved[lane] else None,
        }
        for lane, rate in rates.items()
    ]


def _pooled_pairs(runs: Sequence[Records]) -> list[dict[str, Any]]:
    """Each pair's discordant counts summed over the runs that have both lanes."""
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for records in runs:
        for row in transfer_pairs(records):
            total = totals.setdefault(
                (row["a"], row["b"]),
                {"a": row["a"], "b": row["b"], "runs": 0, "tasks": 0, "only_a": 0, "only_b": 0},
            )
            total["runs"] += 1
            total["tasks"] += row["tasks"]
            total["only_a"] += len(row["only_a"])
            total["only_b"] += len(row["only_b"])
    return [
        {**total, "p_value": mcnemar_exact(total["only_a"], total["only_b"])}
        for total in totals.values()
    ]


def _pooled_reach(runs: Sequence[Records]) -> dict[str, dict[str, int]]:
    """Per memory lane: :func:`where_transfer_is_lost` summed over the runs."""
    reach: dict[str, dict[str, int]] = {}
    for records in runs:
        for lane in MEMORY_LANES:
            if lane not in records:
                continue
            total = reach.setdefault(lane, defaultdict(int))
            for key, count in where_transfer_is_lost(records, lane).items():
                total[key] += count
    return {lane: dict(counts) for lane, counts in reach.items()}


def _share_of_ceiling(rates: dict[str, float], lane: str) -> float | None:
    """(lane - no memory) / (oracle - no memory); None without both or without a ceiling."""
    if lane not in rates or not {BASELINE, ORACLE} <= set(rates):
        return None
    ceiling = rates[ORACLE] - rates[BASELINE]
    return None if ceiling <= 0 else (rates[lane] - rates[BASELINE]) / ceiling


def recall_precision(records: Records, lane: str = MEMORY) -> dict[str, Any]:
    """Of the lessons a memory lane recalled, how many came from the task's own family."""
    recalled = same = tasks_with_own = later = 0
    for task, record in later_tasks(records.get(lane, {})).items():
        sources = [family_of(source) for source in record.get("recalled_from", [])]
        recalled += len(sources)
        same += sources.count(family_of(task))
        tasks_with_own += family_of(task) in sources
        later += 1
    return {
        "recalled": recalled,
        "from_own_family": same,
        "later_tasks": later,
        "later_tasks_recalling_own_family": tasks_with_own,
    }


def lessons_by_family(records: Records, lane: str = MEMORY) -> dict[str, list[str]]:
    """What a memory lane stored, grouped by family (older results: the lessons written)."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for task, record in sorted(records.get(lane, {}).items()):
        grouped[family_of(task)].extend(_stored(record))
    return dict(grouped)


def where_transfer_is_lost(records: Records, lane: str = MEMORY) -> dict[str, int]:
    """The later tasks a lesson could reach, step by step: written, recalled, helped.

    ``written``: an earlier task of the family stored a lesson (what writing loses is the
    rest); ``recalled``: of those, the task recalled its family's lesson (retrieval loses the
    difference); ``helped``: of those, the first attempt passed.
    """
    by_task = records.get(lane, {})
    first_stored: dict[str, int] = {}  # family -> position of its first task that stored one
    for task, record in by_task.items():
        if _stored(record):
            family, position = family_of(task), position_of(task)
            first_stored[family] = min(position, first_stored.get(family, position))
    later = written = recalled = helped = 0
    for task, record in later_tasks(by_task).items():
        family, position = family_of(task), position_of(task)
        later += 1
        if first_stored.get(family, position) >= position:
            continue
        written += 1
        if family in {family_of(source) for source in record.get("recalled_from", [])}:
            recalled += 1
            helped += bool(record["success_at"][0])
    return {"later_tasks": later, "written": written, "recalled": recalled, "helped": helped}


def replay_counts(records: Records, lane: str = MEMORY) -> dict[str, int]:
    """How the lane's hindsight lessons fared in their replays (``passed``, ``failed``, ...)."""
    counts: dict[str, int] = defaultdict(int)
    for record in records.get(lane, {}).values():
        for lesson in record.get("learned") or []:
            counts[lesson["replay"]] += 1
    return dict(counts)


def _stored(record: dict[str, Any]) -> list[str]:
    """The lessons a record stored (older results: the lessons written)."""
    stored: list[str] = record["stored"] if "stored" in record else record.get("lessons", [])
    return stored


def naming_the_convention(
    records: Records, families: Sequence[Family], lane: str = MEMORY
) -> tuple[int, int]:
    """``(stored lessons that name their family's convention, stored lessons)``.

    A lesson names it when it contains the convention's statement or one of its hidden words.
    """
    by_name = {family.name: family for family in families}
    named = total = 0
    for name, lessons in lessons_by_family(records, lane).items():
        family = by_name.get(name)
        for lesson in lessons:
            total += 1
            named += bool(family and family.giveaways(lesson))
    return named, total


def transfer_markdown(records: Records, families: Sequence[Family] = ()) -> str:
    """The families tables: transfer per lane, paired counts, the oracle gain recovered."""
    lines = [
        "| lane | later tasks | first attempt on tasks 2-4 | tasks 2-4 within budget "
        "| all tasks within budget |",
        "|---|---|---|---|---|",
    ]
    for row in transfer_rows(records):
        lines.append(
            f"| {row['strategy']} | {row['later_tasks']} | {row['transfer_at_1']:.2f} | "
            f"{row['later_at_budget']:.2f} | {row['all_at_budget']:.2f} |"
        )
    lines += [
        "",
        "| paired (first attempt, tasks 2-4) | tasks | only a | only b | exact McNemar p |",
        "|---|---|---|---|---|",
    ]
    for row in transfer_pairs(records):
        lines.append(
            f"| {row['a']} vs {row['b']} | {row['tasks']} | {len(row['only_a'])} | "
            f"{len(row['only_b'])} | {row['p_value']:.3f} |"
        )
    lines.append("")
    for lane in MEMORY_LANES:
        if lane in records:
            lines += _memory_lane_lines(records, lane, families)
    return "\n".join(lines)


def _memory_lane_lines(records: Records, lane: str, families: Sequence[Family]) -> list[str]:
    recovered = oracle_gain_recovered(records, lane)
    precision = recall_precision(records, lane)
    named, stored = naming_the_convention(records, families, lane)
    reach = where_transfer_is_lost(records, lane)
    replays = ", ".join(
        f"{n} {verdict}" for verdict, n in sorted(replay_counts(records, lane).items())
    )
    return [
        f"{lane}: fraction of the oracle's gain recovered: "
        + ("n/a (the oracle gained nothing)" if recovered is None else f"{recovered:.2f}"),
        f"{lane}: {precision['from_own_family']} of {precision['recalled']} recalled lessons "
        f"came from the task's own family; {precision['later_tasks_recalling_own_family']} of "
        f"{precision['later_tasks']} later tasks recalled one",
        f"{lane}: {named} of {stored} stored lessons name their family's convention"
        + (f"; hindsight replays: {replays}" if replays else ""),
        f"{lane}: of {reach['later_tasks']} later tasks, {reach['written']} had a lesson of "
        f"their family stored before them, {reach['recalled']} of those recalled it, and "
        f"{reach['helped']} of those passed first time",
    ]
