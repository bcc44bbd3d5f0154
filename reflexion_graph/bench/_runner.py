"""Run strategies on the same tasks, model and attempt budget, from one shared first attempt.

Every strategy starts each task from the same first answer, sampled once (seeds do not make
attempts identical on a server with parallel slots), so strategies differ only in what they
do after a failure. Results, shared first attempts and the memory lane's memory live beside
each other, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from reflexion_graph._parsing import message_text
from reflexion_graph._records import Attempt, Lesson, make_lesson
from reflexion_graph._usage import metered
from reflexion_graph.actors._llm import LLMActor
from reflexion_graph.actors._request import AttemptRequest
from reflexion_graph.bench._families import family_of, position_of
from reflexion_graph.bench._lanes import (
    FAMILY_LESSONS,
    LANES,
    MEMORY,
    MEMORY_SETTINGS,
    PAPER_RETRY_CONTEXT,
    UNRECORDED_MEMORY_SETTINGS,
    lane_of,
)
from reflexion_graph.bench._task import BenchTask
from reflexion_graph.bench._transfer import lessons_by_family
from reflexion_graph.episodes import EpisodeLog
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.evaluators import SelfTestEvaluator
from reflexion_graph.graph._factory import create_reflexion_agent
from reflexion_graph.graph._nodes import best_attempt
from reflexion_graph.loop._settings import ReflexionContext, RetryContext
from reflexion_graph.memory._base import BaseLessonMemory
from reflexion_graph.models._binding import ChatRunnable, with_options

_COUNTED = ("input_tokens", "output_tokens", "model_calls")
"""What a record counts of a run's usage (beside its seconds)."""
STRATEGIES = tuple(lane.name for lane in LANES)
"""The named lanes (see :data:`LANES`); ``reflexion:<retry context>`` lanes come on top."""
COMPARED_STRATEGIES = tuple(lane.name for lane in LANES if not lane.diagnostic)
"""The lanes a user compares (the others measure one part: docs/benchmarks.md)."""
DEFAULT_STRATEGIES = STRATEGIES[:5]
"""What runs unless strategies are named: ``oracle-lesson`` needs tasks with oracle lessons."""

Record = dict[str, Any]


class BenchActor(LLMActor):
    """The bench's actor: the shared first answer, then fresh samples with the task's stops.

    A first attempt that sees recalled lessons is the strategy's own (the lessons change it);
    otherwise it is the task's shared first answer. Attempt k samples with seed ``seed + k - 1``.
    """

    def __init__(
        self,
        model: BaseChatModel,
        seed: int,
        *,
        first_answer: str,
        system_prompt: str,
        stop: Sequence[str] = (),
    ) -> None:
        super().__init__(model, system_prompt=system_prompt)
        self.seed, self.stop, self.first_answer = seed, list(stop), first_answer
        self.calls = 0
        self.used_shared_first = False

    def attempt(self, request: AttemptRequest) -> str:
        """The shared first answer, or one sample with the next seed."""
        seed = self._next_seed()
        if self._shares_first(request):
            return self.first_answer
        return message_text(self._sampler(seed).invoke(self.messages(request)).content)

    async def aattempt(self, request: AttemptRequest) -> str:
        """Async twin of :meth:`attempt`."""
        seed = self._next_seed()
        if self._shares_first(request):
            return self.first_answer
        return await self.sample(self.messages(request), seed)

    async def sample(self, messages: list[BaseMessage], seed: int) -> str:
        """One reply to ``messages``, sampled with ``seed`` and stopped at the task's stops."""
        return message_text((await self._sampler(seed).ainvoke(messages)).content)

    def _next_seed(self) -> int:
        """Each call of a run samples with its own seed: the run's seed plus the call's index."""
        seed, self.calls = self.seed + self.calls, self.calls + 1
        return seed

    def _shares_first(self, request: AttemptRequest) -> bool:
        """Whether this is the run's first call, without recalled lessons to change it."""
        shared = self.calls == 1 and not request.lessons
        self.used_shared_first = self.used_shared_first or shared
        return shared

    def _sampler(self, seed: int) -> ChatRunnable:
        return with_options(self.model, stop=self.stop, seed=seed)


class FixedLessons(BaseLessonMemory):
    """A lane's given lessons (the oracle's, or a family's stored ones); stores nothing."""

    def __init__(self, lessons: Sequence[str]) -> None:
        self.lessons = [lesson for lesson in lessons if lesson]

    def search(self, task: str, *, k: int, scope: str) -> list[Lesson]:
        """The latest ``k`` of the given lessons."""
        if k < 1:
            return []
        return [make_lesson(lesson, task=task) for lesson in self.lessons[-k:]]

    def save(self, lessons: Sequence[Lesson], *, scope: str) -> int:
        """Store nothing: a lane with given lessons must not learn."""
        return 0

    def record_usage(self, ids: Sequence[str], *, passed: bool, scope: str) -> None:
        """Count nothing."""


def saved_config_of(saved: dict[str, Any]) -> dict[str, Any]:
    """A results file's config, with the memory settings it ran with.

    A file written before configs recorded them ran with :data:`UNRECORDED_MEMORY_SETTINGS`.
    """
    config = saved.get("config")
    if not isinstance(config, dict):
        return {}
    return {"memory": UNRECORDED_MEMORY_SETTINGS, **config}


def recorded_memory_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The memory settings a run uses and records: ``settings`` over the library's defaults.

    Checked as a :class:`ReflexionContext` checks them; a name that is not a memory setting
    is refused.
    """
    unknown = sorted(set(settings) - set(MEMORY_SETTINGS))
    if unknown:
        raise ConfigurationError(
            f"not memory settings: {', '.join(unknown)}; known: {', '.join(MEMORY_SETTINGS)}"
        )
    context = ReflexionContext(**settings)
    return {name: getattr(context, name) for name in MEMORY_SETTINGS}


class BenchRunner:
    """Runs every (strategy, task) pair once, saving each record as it finishes."""

    def __init__(
        self,
        model: BaseChatModel,
        tasks: list[BenchTask],
        *,
        strategies: Sequence[str],
        attempts: int,
        seed: int,
        results: Path,
        config: dict[str, Any],
        retry_context: RetryContext = PAPER_RETRY_CONTEXT,
        concurrency: int = 1,
        episodes: EpisodeLog | None = None,
        memory_from: Path | None = None,
        memory_settings: Mapping[str, Any] | None = None,
    ) -> None:
        self.lanes = {strategy: lane_of(strategy) for strategy in strategies}
        for lane in self.lanes.values():
            if lane.lessons in ("oracle", "family") and not any(t.oracle_lesson for t in tasks):
                raise ConfigurationError(
                    f"{lane.name!r} needs tasks with oracle lessons (--dataset families)"
                )
        self.model, self.tasks, self.strategies = model, tasks, list(strategies)
        self.attempts, self.seed, self.concurrency = attempts, seed, concurrency
        self.retry_context = ReflexionContext(retry_context=retry_context).retry_context
        self.results, self.episodes = results, episodes
        self.memory_dirs = {
            name: results.with_name(results.stem + lane.memory_folder)
            for name, lane in self.lanes.items()
            if lane.keeps_memory
        }
        self.memory_from = memory_from
        if memory_from is not None and not (memory_from / "chroma.sqlite3").is_file():
            raise ConfigurationError(
                f"--memory-from {str(memory_from)!r} is not a Chroma memory folder "
                "(no chroma.sqlite3 in it)"
            )
        saved = self._saved()
        saved_config = saved_config_of(saved)
        self.memory_settings = recorded_memory_settings(
            saved_config.get("memory", {}) if memory_settings is None else memory_settings
        )
        self.config = {
            **config,
            **({"memory_from": memory_from.name} if memory_from else {}),
            "attempts": attempts,
            "seed": seed,
            "retry_context": self.retry_context,
            "memory": self.memory_settings,
        }
        self.records: dict[str, dict[str, Record]] = {s: {} for s in self.strategies}
        self.other_records: dict[str, dict[str, Record]] = {}
        """Lanes of the results file this run does not run: kept as they are."""
        self.first_attempts: dict[str, Record] = {}
        self.self_tests: dict[str, list[str]] = {}
        self._first_locks: dict[str, asyncio.Lock] = {}
        self._task_ids = {task.prompt: task.id for task in tasks}
        self._resume(saved, saved_config)

    def pending(self) -> int:
        """How many (strategy, task) runs are still to do."""
        return sum(t.id not in self.records[s] for s in self.strategies for t in self.tasks)

    async def run(self, on_record: Callable[[str, Record], None] = lambda s, r: None) -> None:
        """Run what is pending, task by task (so a task's strategies share the prompt cache).

        Each memory lane takes the tasks in order, one at a time, on a slot of its own; the
        other strategies share the remaining slots.
        """
        lanes = []
        for strategy in self.strategies:
            if self.lanes[strategy].keeps_memory:
                pending = [t for t in self.tasks if t.id not in self.records[strategy]]
                if pending:
                    lanes.append(self._run_in_order(strategy, pending, on_record))
        slots = asyncio.Semaphore(max(1, self.concurrency - len(lanes)))
        lanes += [
            self._run_in_slot(slots, strategy, task, on_record)
            for task in self.tasks
            for strategy in self.strategies
            if not self.lanes[strategy].keeps_memory and task.id not in self.records[strategy]
        ]
        await asyncio.gather(*lanes)

    async def _run_in_slot(
        self,
        slots: asyncio.Semaphore,
        strategy: str,
        task: BenchTask,
        on_record: Callable[[str, Record], None],
    ) -> None:
        async with slots:
            record = await self._run_one(strategy, task, None)
        self._keep(strategy, record, on_record)

    async def _run_in_order(
        self, strategy: str, tasks: list[BenchTask], on_record: Callable[[str, Record], None]
    ) -> None:
        """A cross-task memory lane: a fixed task order and a memory that starts empty.

        With ``memory_from`` (the harm check) the memory starts as a copy of that one. It lives
        beside the results file, so a resumed run keeps what it learned.
        """
        memory = self._memory(strategy)
        for task in tasks:
            record = await self._run_one(strategy, task, memory)
            self._keep(strategy, record, on_record)

    def _keep(
        self, strategy: str, record: Record, on_record: Callable[[str, Record], None]
    ) -> None:
        self.records[strategy][record["task"]] = record
        self._save()
        on_record(strategy, record)

    async def _first_attempt(self, task: BenchTask) -> Record:
        """The task's shared start, prepared once and kept in the results file.

        Its self-tests (written first and charged to no strategy, so every strategy meets the
        same tests, also after a resume) and its first answer, sampled once.
        """
        lock = self._first_locks.setdefault(task.id, asyncio.Lock())
        async with lock:
            if isinstance(task.feedback, SelfTestEvaluator):
                await self._self_tests(task, task.feedback)
            if task.id not in self.first_attempts:
                actor = BenchActor(
                    self.model,
                    self.seed,
                    first_answer="",
                    system_prompt=task.system_prompt,
                    stop=task.stop,
                )
                messages = actor.messages(AttemptRequest(task=task.prompt))
                started = time.perf_counter()
                with metered() as meter:
                    answer = await actor.sample(messages, self.seed)
                self.first_attempts[task.id] = {
                    "answer": answer,
                    "input_tokens": meter.usage["input_tokens"],
                    "output_tokens": meter.usage["output_tokens"],
                    "model_calls": meter.usage["model_calls"],
                    "seconds": round(time.perf_counter() - started, 2),
                }
                self._save()
            return self.first_attempts[task.id]

    async def _self_tests(self, task: BenchTask, evaluator: SelfTestEvaluator) -> None:
        if task.id in self.self_tests:
            evaluator.use_tests(task.prompt, self.self_tests[task.id])
            return
        self.self_tests[task.id] = await asyncio.to_thread(evaluator.tests_for, task.prompt)
        self._save()

    async def _run_one(
        self, strategy: str, task: BenchTask, memory: BaseLessonMemory | None
    ) -> Record:
        first = await self._first_attempt(task)
        lane = self.lanes[strategy]
        if lane.lessons == "oracle":
            memory = FixedLessons([task.oracle_lesson])
        elif lane.lessons == "family":
            memory = FixedLessons(self._family_lessons(task))
        actor = BenchActor(
            self.model,
            self.seed,
            first_answer=first["answer"],
            system_prompt=task.system_prompt,
            stop=task.stop,
        )
        graph = create_reflexion_agent(
            self.model,
            evaluator=task.feedback,
            actor=actor,
            reflector=None,
            memory=memory,
            episode_log=None if lane.resamples else self.episodes,
        )
        context = self._context(strategy)
        started = time.perf_counter()
        state = await graph.ainvoke({"task": task.prompt}, context=context)
        seconds = time.perf_counter() - started
        # The shared first attempt is charged to every strategy that used it.
        usage = state["usage"]
        spent = {key: usage[key] for key in _COUNTED} | {"seconds": seconds}
        if actor.used_shared_first:
            spent = {key: value + first.get(key, 0) for key, value in spent.items()}
        return {
            "task": task.id,
            "success_at": await self._success_at(task, state["attempts"]),
            "attempts": len(state["attempts"]),
            "stop_reason": state["stop_reason"],
            "shared_first_attempt": actor.used_shared_first,
            "input_tokens": spent["input_tokens"],
            "output_tokens": spent["output_tokens"],
            "model_calls": spent["model_calls"],
            "seconds": round(spent["seconds"], 2),
            "recalled": [lesson["text"] for lesson in state["recalled"]],
            "recalled_from": [
                self._task_ids.get(lesson["task"], lesson["task"]) for lesson in state["recalled"]
            ],
            "lessons": [lesson["text"] for lesson in state["reflections"]],
            "stored": [lesson["text"] for lesson in state.get("stored") or [] if lane.keeps_memory],
            "learned": [
                {"text": lesson["text"], "replay": lesson["replay"]} for lesson in state["learned"]
            ],
        }

    def _family_lessons(self, task: BenchTask) -> list[str]:
        """What ``reflexion+memory`` stored on the earlier tasks of ``task``'s family."""
        family, position = family_of(task.id), position_of(task.id)
        earlier = [f"{family}/{n}" for n in range(1, position)]
        lane = self.records.get(MEMORY, {})
        missing = [task_id for task_id in earlier if task_id not in lane]
        if missing:
            raise ConfigurationError(
                f"{FAMILY_LESSONS!r} needs the {MEMORY!r} records of "
                f"{missing}: run {MEMORY!r} first, with the same --results"
            )
        return [lesson for task_id in earlier for lesson in lane[task_id]["stored"]]

    def _context(self, strategy: str) -> ReflexionContext:
        lane = self.lanes[strategy]
        return ReflexionContext(
            max_attempts=1 if lane.single_attempt else self.attempts,
            retry_context=lane.retry_context or self.retry_context,
            remember=lane.remember or "hindsight",
            save_lessons=lane.keeps_memory,
            replay_unsolved=lane.replay_unsolved,
            recall_evidence=lane.recall_evidence,
            **self.memory_settings,
        )

    async def _success_at(self, task: BenchTask, attempts: list[Attempt]) -> list[bool]:
        """Whether the answer submitted after k = 1..budget attempts passes the hidden check.

        The submission is the best attempt by the feedback the loop saw, never by the hidden one.
        """
        verdicts: dict[int, bool] = {}
        success = []
        for k in range(1, self.attempts + 1):
            submitted = best_attempt(attempts[:k])
            if submitted is None:
                success.append(False)
                continue
            if submitted["number"] not in verdicts:
                final = await task.final.aevaluate(task.prompt, submitted["answer"])
                verdicts[submitted["number"]] = final["passed"]
            success.append(verdicts[submitted["number"]])
        return success

    def _memory(self, strategy: str) -> BaseLessonMemory:
        """A memory lane's memory; a new one starts as a copy of ``memory_from`` if given."""
        from reflexion_graph.memory import ChromaLessonMemory

        folder = self.memory_dirs[strategy]
        if self.memory_from is not None and not folder.exists():
            shutil.copytree(self.memory_from, folder)
        return ChromaLessonMemory(path=folder)

    def _saved(self) -> dict[str, Any]:
        """The results file's payload; empty when there is none yet."""
        if not self.results.exists():
            return {}
        try:
            saved = json.loads(self.results.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise ConfigurationError(
                f"cannot resume from {str(self.results)!r}: {error}"
            ) from error
        if not isinstance(saved, dict):
            raise ConfigurationError(
                f"cannot resume from {str(self.results)!r}: not a results file"
            )
        return saved

    def _resume(self, saved: dict[str, Any], saved_config: dict[str, Any]) -> None:
        if not saved:
            return
        if saved_config != self.config:
            raise ConfigurationError(
                f"{str(self.results)!r} holds a run with another configuration "
                f"({saved_config}); give another --results file"
            )
        for strategy, done in saved.get("records", {}).items():
            if strategy in self.records:
                self.records[strategy] = done
            else:
                self.other_records[strategy] = done
        self.first_attempts = saved.get("first_attempts", {})
        self.self_tests = saved.get("self_tests", {})

    def _save(self) -> None:
        records = {**self.other_records, **self.records}
        payload: dict[str, Any] = {
            "config": self.config,
            "records": records,
            "first_attempts": self.first_attempts,
            "self_tests": self.self_tests,
        }
        if any(task.oracle_lesson for task in self.tasks):
            payload["lessons_by_family"] = lessons_by_family(records)
        partial = self.results.with_suffix(".partial")
        partial.write_text(json.dumps(payload, indent=1))
        partial.replace(self.results)
