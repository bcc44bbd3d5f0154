"""Run strategies on the same tasks, same model, same seeds and attempt budget; resumable."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_openai.chat_models.base import BaseChatOpenAI

from reflexion_graph._actor import LLMActor
from reflexion_graph._graph import best_attempt, create_reflexion_agent
from reflexion_graph._records import Attempt, Reflection, make_reflection
from reflexion_graph._reflector import BaseReflector
from reflexion_graph._state import ReflexionContext
from reflexion_graph.bench._datasets import BenchTask
from reflexion_graph.episodes import EpisodeLog
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.evaluators import SelfTestEvaluator

STRATEGIES = ("single", "retry", "reflexion", "reflexion+memory")
"""single attempt; resampling without reflection (the baseline Reflexion must beat);
Reflexion with this run's reflections; Reflexion plus cross-task memory (starting empty)."""

MEMORY_STRATEGY = "reflexion+memory"

Record = dict[str, Any]


class ResamplingActor(LLMActor):
    """Samples attempt k with seed ``seed + k - 1`` in every strategy.

    Retries resample, and first attempts are identical across strategies (paired comparison).
    """

    def __init__(
        self, model: BaseChatModel, seed: int, *, system_prompt: str, stop: Sequence[str] = ()
    ) -> None:
        super().__init__(model, system_prompt=system_prompt)
        self.seed, self.stop = seed, list(stop)
        self.calls = 0

    async def aact(
        self, task: str, *, reflections: Sequence[Reflection], lessons: Sequence[Reflection]
    ) -> str:
        """One attempt with the next seed (and the task's stop sequences)."""
        seed, self.calls = self.seed + self.calls, self.calls + 1
        options: dict[str, Any] = {"stop": self.stop} if self.stop else {}
        if isinstance(self.model, BaseChatOpenAI):
            options["seed"] = seed
        model = self.model.bind(**options) if options else self.model
        reply = await model.ainvoke(self.messages(task, reflections=reflections, lessons=lessons))
        return str(reply.content)


class NoReflection(BaseReflector):
    """The "retry" baseline: no lesson is written (and the actor is shown none)."""

    def reflect(self, task: str, attempt: Attempt) -> Reflection:
        """A placeholder that costs no model call."""
        return make_reflection("(retry without reflection)", task=task, attempt=attempt["number"])


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
        concurrency: int = 1,
        episodes: EpisodeLog | None = None,
    ) -> None:
        unknown = sorted(set(strategies) - set(STRATEGIES))
        if unknown:
            raise ConfigurationError(f"unknown strategies {unknown}; known: {list(STRATEGIES)}")
        self.model, self.tasks, self.strategies = model, tasks, list(strategies)
        self.attempts, self.seed, self.concurrency = attempts, seed, concurrency
        self.results, self.episodes = results, episodes
        self.config = {**config, "attempts": attempts, "seed": seed}
        self.records: dict[str, dict[str, Record]] = self._resume()

    def pending(self) -> int:
        """How many (strategy, task) runs are still to do."""
        return sum(t.id not in self.records[s] for s in self.strategies for t in self.tasks)

    async def run(self, on_record: Callable[[str, Record], None] = lambda s, r: None) -> None:
        """Run what is pending, all strategies at once.

        ``reflexion+memory`` is one lane that takes the tasks in order, one at a time, on a slot
        of its own; the other strategies share the remaining slots.
        """
        await self._write_self_tests()
        todo = {s: [t for t in self.tasks if t.id not in self.records[s]] for s in self.strategies}
        in_order = todo.pop(MEMORY_STRATEGY, [])
        lanes = [self._run_in_order(in_order, on_record)] if in_order else []
        slots = asyncio.Semaphore(max(1, self.concurrency - len(lanes)))
        lanes += [
            self._run_in_slot(slots, s, t, on_record) for s, tasks in todo.items() for t in tasks
        ]
        await asyncio.gather(*lanes)

    async def _write_self_tests(self) -> None:
        """Write each task's self-tests once, before any strategy runs, ``concurrency`` at once.

        No strategy is charged their tokens, and every strategy meets the same tests.
        """
        slots = asyncio.Semaphore(self.concurrency)

        async def write(evaluator: SelfTestEvaluator, prompt: str) -> None:
            async with slots:
                await asyncio.to_thread(evaluator.tests_for, prompt)

        await asyncio.gather(
            *(
                write(task.feedback, task.prompt)
                for task in self.tasks
                if isinstance(task.feedback, SelfTestEvaluator)
            )
        )

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
        self, tasks: list[BenchTask], on_record: Callable[[str, Record], None]
    ) -> None:
        """The cross-task memory lane: a fixed task order and a memory that starts empty."""
        with tempfile.TemporaryDirectory(prefix="reflexion-bench-memory-") as folder:
            memory = self._memory(folder)
            for task in tasks:
                record = await self._run_one(MEMORY_STRATEGY, task, memory)
                self._keep(MEMORY_STRATEGY, record, on_record)

    def _keep(
        self, strategy: str, record: Record, on_record: Callable[[str, Record], None]
    ) -> None:
        self.records[strategy][record["task"]] = record
        self._save()
        on_record(strategy, record)

    async def _run_one(self, strategy: str, task: BenchTask, memory: Any) -> Record:
        retry = strategy == "retry"
        graph = create_reflexion_agent(
            self.model,
            evaluator=task.feedback,
            actor=ResamplingActor(
                self.model, self.seed, system_prompt=task.system_prompt, stop=task.stop
            ),
            reflector=NoReflection() if retry else None,
            memory=memory,
            episode_log=None if retry else self.episodes,
        )
        context = ReflexionContext(
            max_attempts=1 if strategy == "single" else self.attempts,
            reflection_window=0 if retry else 3,
        )
        started = time.perf_counter()
        state = await graph.ainvoke({"task": task.prompt}, context=context)
        seconds = time.perf_counter() - started
        return {
            "task": task.id,
            "success_at": await self._success_at(task, state["attempts"]),
            "attempts": len(state["attempts"]),
            "stop_reason": state["stop_reason"],
            "input_tokens": state["usage"]["input_tokens"],
            "output_tokens": state["usage"]["output_tokens"],
            "model_calls": state["usage"]["model_calls"],
            "seconds": round(seconds, 2),
        }

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

    def _memory(self, folder: str) -> Any:
        from reflexion_graph.memory import ChromaReflectionMemory

        return ChromaReflectionMemory(path=folder)

    def _resume(self) -> dict[str, dict[str, Record]]:
        records: dict[str, dict[str, Record]] = {s: {} for s in self.strategies}
        if not self.results.exists():
            return records
        try:
            saved = json.loads(self.results.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise ConfigurationError(
                f"cannot resume from {str(self.results)!r}: {error}"
            ) from error
        if saved.get("config") != self.config:
            raise ConfigurationError(
                f"{str(self.results)!r} holds a run with another configuration "
                f"({saved.get('config')}); give another --results file"
            )
        for strategy, done in saved.get("records", {}).items():
            if strategy in records:
                records[strategy] = done
        return records

    def _save(self) -> None:
        payload = {"config": self.config, "records": self.records}
        partial = self.results.with_suffix(".partial")
        partial.write_text(json.dumps(payload, indent=1))
        partial.replace(self.results)
