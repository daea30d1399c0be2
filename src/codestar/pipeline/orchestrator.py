"""Where a solve run's concurrency lives: one `Run` per problem (see `solver` to run one).

A method (see `codestar.pipeline.methods`) states *what depends on what*; the `Run` it
receives makes everything else overlap: `gather` runs independent stages at once,
`background` starts one early (input synthesis while candidates are still being
debugged), `memo` makes a pairwise comparison happen once. Model calls are bounded only
by each backend's own concurrency limit, executions only by the engine's workers
(`await engine.arun(...)`); nothing here adds a limit of its own, except the optional
cap on how many *problems* `codestar.pipeline.solver.solve_many` runs at once.

The `Run` also keeps the books: tokens, calls and (with a price table) money per stage
in a `codestar.llm.accounting.Ledger` of its own, answers from the run store apart; when
each phase ended; and a progress callback for live views.

Budgets: the backends refuse new calls once the run's budget is spent
(`BudgetExceededError`, see `codestar.llm.accounting`). Stages ask through
`Run.try_complete`, which turns that refusal into "no answer": the run stops launching
model calls, keeps everything that finished, records why in ``Run.stopped``, and the
method selects from what is there. It does not decide anything (see `selection`) and
does not build prompts (see `prompts`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from codestar.errors import BudgetExceededError, ContextLengthError
from codestar.execution.types import GradingRule, Limits, Program, ProgramResult
from codestar.llm.accounting import Ledger, PriceTable
from codestar.llm.types import Completion, CompletionRequest, Message, SamplingParams, Stage, Usage
from codestar.pipeline.config import Models, Role, SolveConfig
from codestar.pipeline.prompts import estimate_tokens, variant
from codestar.pipeline.selection import rng_for
from codestar.pipeline.trace import Selection, SolveResult
from codestar.problems.model import Problem, TestCase

T = TypeVar("T")


class Executor(Protocol):
    """What the pipeline needs of the execution engine (`codestar.execution.engine.Engine`)."""

    async def arun(
        self,
        program: Program,
        tests: Sequence[TestCase],
        *,
        stop_on_failure: bool = ...,
        limits: Limits | None = ...,
        rule: GradingRule | None = ...,
    ) -> ProgramResult: ...


@dataclass(frozen=True, slots=True)
class Event:
    """A progress event for live views: ``kind`` is one of sampled, debugged, inputs,
    clustered, comparing (how many pairs and calls are planned), compared, overflow (a
    prompt did not fit the context), stopped (a budget is spent), selected;
    ``candidate`` is set for sampled and debugged."""

    kind: str
    detail: str = ""
    candidate: int | None = None
    passed: bool | None = None


Progress = Callable[[Event], None]


class Run:
    """The state of one method on one problem: its inputs, its books and its overlap tools."""

    def __init__(
        self,
        problem: Problem,
        *,
        method: str,
        models: Models,
        engine: Executor,
        config: SolveConfig,
        progress: Progress | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        self.problem = problem
        self.method = method
        self.models = models
        self.engine = engine
        self.config = config
        self.rng = rng_for(config.seed, problem.id)
        self._progress = progress
        #: This problem's books (no budget: the backends hold the run's budget).
        self.books = Ledger(prices)
        self._priced = prices is not None and bool(prices.prices)
        #: Why the run stopped launching model calls (a budget), or ``None``.
        self.stopped: str | None = None
        #: The stages whose prompt overflowed the context (each time it happened).
        self.overflows: list[str] = []
        self._marks: dict[str, float] = {}
        self._memo: dict[Any, asyncio.Task[Any]] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        self._effective: dict[str, Any] = {}
        self._started = time.perf_counter()

    # -- model calls and executions --------------------------------------------------

    async def complete(
        self,
        role: Role,
        stage: Stage,
        messages: Sequence[Message],
        *,
        sample_index: int = 0,
        temperature: float = 0.0,
    ) -> Completion:
        """One model call for ``stage`` by the backend playing ``role``; counted per stage.

        Sampling calls get seed ``config.seed + sample_index`` so that samples differ from
        each other yet a rerun asks for the same ones.
        """
        request = CompletionRequest(
            messages=tuple(messages),
            params=SamplingParams(
                temperature=temperature,
                max_tokens=self.config.max_tokens,
                seed=self.config.seed + sample_index,
            ),
            sample_index=sample_index,
            stage=stage,
            problem_id=self.problem.id,
        )
        backend = self.models.for_role(role)
        completion = await backend.complete(request)
        usage = completion.usage if completion.usage.calls else completion.usage + Usage(0, 0, 1)
        self.books.record(backend.model, stage, self.problem.id, usage, cached=completion.cached)
        return completion

    async def try_complete(
        self,
        role: Role,
        stage: Stage,
        messages: Sequence[Message],
        *,
        sample_index: int = 0,
        temperature: float = 0.0,
        overflow_ok: bool = False,
    ) -> Completion | None:
        """`complete`, or ``None`` once a budget refuses the call (``stopped`` says why).

        Stages use it so that a spent budget ends their work cleanly: what finished
        stays, what was not asked is simply missing. With ``overflow_ok`` a prompt that
        overflows the model's context (`ContextLengthError`) is also "no answer", and
        the stage is listed in ``overflows``: an auxiliary stage (inputs, distinguish,
        judge) that cannot be asked must not fail a problem whose candidates passed.
        """
        try:
            return await self.complete(
                role, stage, messages, sample_index=sample_index, temperature=temperature
            )
        except ContextLengthError:
            if not overflow_ok:
                raise
            self.overflows.append(stage)
            self.emit(Event("overflow", f"the {stage} prompt overflowed the context"))
            return None
        except BudgetExceededError as error:
            if self.stopped is None:
                self.stopped = str(error.args[0]) if error.args else str(error)
                self.emit(Event("stopped", self.stopped))
            return None

    def render(self, stage: str, **fields: str | int) -> tuple[Message, ...]:
        """The prompt of ``stage`` for this problem in the configured prompt variant."""
        return variant(self.config.prompt_variant).render(stage, self.problem, **fields)

    def fits(self, stage: Stage, messages: Sequence[Message]) -> bool:
        """Whether a prompt fits the context (``config.prompt_tokens``, estimated); one
        that does not is listed in ``overflows`` and should not be sent."""
        if estimate_tokens(messages) <= self.config.prompt_tokens:
            return True
        self.overflows.append(stage)
        self.emit(Event("overflow", f"the {stage} prompt does not fit the context"))
        return False

    def program(self, source: str) -> Program:
        return Program.for_problem(source, self.problem)

    async def execute(self, source: str, tests: Sequence[TestCase]) -> ProgramResult:
        """Run ``source`` as a solution of the problem on every one of ``tests``."""
        if not tests:
            return ProgramResult()
        return await self.engine.arun(
            self.program(source), tests, stop_on_failure=False, limits=self.config.limits
        )

    async def execute_each(
        self, sources: Sequence[str], tests: Sequence[TestCase]
    ) -> list[ProgramResult]:
        """Run every source on every test, all at once (the engine's workers bound it)."""
        return await self.gather(*(self.execute(source, tests) for source in sources))

    # -- overlap ----------------------------------------------------------------------

    @staticmethod
    async def gather(*awaitables: Awaitable[T]) -> list[T]:
        """Await independent work concurrently; the first failure cancels the rest."""
        tasks = [asyncio.ensure_future(a) for a in awaitables]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            raise

    def background(self, coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Start work now and await it later (e.g. input synthesis during debugging)."""
        task = asyncio.create_task(coroutine)
        self._tasks.append(task)
        return task

    def memo(self, key: Any, factory: Callable[[], Coroutine[Any, Any, T]]) -> asyncio.Task[T]:
        """The one task computing ``key``: started by the first caller, shared after."""
        task = self._memo.get(key)
        if task is None:
            task = self.background(factory())
            self._memo[key] = task
        return task

    async def cancel_pending(self) -> None:
        """Cancel work started here and never awaited (after a failure elsewhere)."""
        pending = [task for task in self._tasks if not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in self._tasks:
            if not task.cancelled():
                # Seen: a background task that failed while the method was failing for
                # another reason is not news, and asyncio would print its traceback.
                task.exception()

    # -- books ------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        if self._progress is not None:
            self._progress(event)

    def mark(self, phase: str) -> None:
        """Record that ``phase`` ended now (seconds since the run started)."""
        self._marks[f"{phase}_s"] = round(time.perf_counter() - self._started, 6)

    def effective(self, **settings: Any) -> None:
        """Record settings a method overrides (zero-shot always samples once...)."""
        self._effective.update(settings)

    @property
    def usage(self) -> dict[str, Usage]:
        """Tokens and calls per stage of every answer received, store answers included."""
        report = self.books.report()
        usage = {stage: tally.usage for stage, tally in report.by_stage.items()}
        for stage, tally in report.cached_by_stage.items():
            usage[stage] = usage.get(stage, Usage()) + tally.usage
        return usage

    def result(self, *, program: str | None, selection: Selection, **fields: Any) -> SolveResult:
        """The `SolveResult` of this run, with its books filled in."""
        self.emit(Event("selected", selection.reason))
        timings = dict(self._marks)
        timings["total_s"] = round(time.perf_counter() - self._started, 6)
        config = {**asdict(self.config), **self._effective}
        report = self.books.report()
        return SolveResult(
            problem_id=self.problem.id,
            method=self.method,
            program=program,
            selection=selection,
            usage=MappingProxyType(self.usage),
            cached=MappingProxyType({s: t.usage for s, t in report.cached_by_stage.items()}),
            cost=(
                MappingProxyType({s: t.cost for s, t in report.by_stage.items()})
                if self._priced
                else None
            ),
            stopped=self.stopped,
            timings=MappingProxyType(timings),
            config=MappingProxyType(config),
            models=MappingProxyType(self.models.names()),
            context_overflows=tuple(self.overflows),
            **fields,
        )
