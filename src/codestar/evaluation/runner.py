"""Run methods over a benchmark: solve, grade on the hidden tests, write rows, resume.

`evaluate` solves every problem with every method (problems concurrently, the methods of
one problem at once, so that identical model calls are made once: the run store and
its in-flight sharing answer the second asker), grades each selected program on the
hidden tests in the sandbox, grades each method's pool of candidates too (the oracle
pass@N; a program is graded once however many methods hold it), and appends one
`ResultRow` per problem x method to ``results.jsonl`` as soon as it is known.

With a run directory it resumes: rows already there are kept and not redone (except
rows that ended in an error, which are retried), and the model calls and executions of
an interrupted problem are answered by the run store. ``traces/<method>.jsonl`` keeps
each solve's full trace, ``generations/<method>.json`` the selected programs in
LiveCodeBench's format, ``summary.json`` the numbers.

A problem whose model calls fail gets an ``error`` row and the others go on, unless the
failure is about the set-up (`FATAL_ERRORS`: no server, a wrong key or model name),
which every problem would meet: that stops the run, keeping the finished rows. Any other
exception is a bug and propagates. ``problem_timeout_s`` bounds one problem's wall
time: once it has passed, that problem launches no more model calls and selects from
what finished (its rows say ``stopped``).

It does not open backends or engines, load benchmarks or print (see `codestar.cli.eval`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from codestar.errors import (
    AuthenticationError,
    BackendUnreachableError,
    CodestarError,
    ConfigError,
    LocalModelError,
    ModelNotFoundError,
)
from codestar.evaluation.deadline import Deadline, with_deadline
from codestar.evaluation.generations import Generation, write_generations
from codestar.evaluation.lock import hold_run_dir
from codestar.evaluation.manifest import write_json_atomic
from codestar.evaluation.results import ResultRow, ResultsFile, append_line, usage_of
from codestar.evaluation.summary import Summary, summarize
from codestar.execution.types import GradingRule, Program
from codestar.llm.accounting import PriceTable
from codestar.pipeline.config import Models, SolveConfig
from codestar.pipeline.methods import get_method
from codestar.pipeline.orchestrator import Executor, Run
from codestar.pipeline.solver import solve
from codestar.pipeline.trace import SolveResult
from codestar.problems.model import Problem

SUMMARY_FILE = "summary.json"

#: Failures that are about the set-up, not the problem: every other problem would fail
#: the same way, so the run stops (finished rows are kept; a rerun resumes).
FATAL_ERRORS: tuple[type[CodestarError], ...] = (
    AuthenticationError,
    ModelNotFoundError,
    BackendUnreachableError,
    LocalModelError,
    ConfigError,
)

#: Seconds past the problem's time limit after which a method still running is ended
#: outright (its row is an error): in-flight executions and calls get this long.
HARD_STOP_GRACE_S = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class EvalConfig:
    """What to run: methods, their shared solve settings, and how much at once.

    concurrency: problems in flight at once (``None``: all; backends and the engine
        still bound the actual work).
    problem_timeout_s: wall-clock seconds one problem may take before it stops
        launching model calls and selects from what it has (``None``: no limit).
    grade_pool: also grade every candidate of each method's pool (oracle pass@N).
    """

    methods: tuple[str, ...] = ("sstar",)
    solve: SolveConfig = field(default_factory=SolveConfig)
    concurrency: int | None = None
    problem_timeout_s: float | None = None
    grade_pool: bool = True

    def __post_init__(self) -> None:
        if not self.methods:
            raise ConfigError("no method to evaluate", hint="pass --method sstar or another")
        for method in self.methods:
            get_method(method)  # a ConfigError listing the valid names
        if len(set(self.methods)) != len(self.methods):
            raise ConfigError("a method is named twice", hint="name each --method once")
        if self.concurrency is not None and self.concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.problem_timeout_s is not None and not self.problem_timeout_s > 0:
            raise ConfigError(f"the problem timeout must be positive, got {self.problem_timeout_s}")


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The rows of the whole run (earlier processes' included) and their summary."""

    rows: tuple[ResultRow, ...]
    summary: Summary
    resumed: int  # rows found in the run dir and not redone

    @property
    def errors(self) -> tuple[ResultRow, ...]:
        return tuple(row for row in self.rows if row.error)


Progress = Callable[[ResultRow], None]
RuleFor = Callable[[Problem], GradingRule]


def _default_rule(problem: Problem) -> GradingRule:
    return GradingRule()


class _Grader:
    """Grades programs on a problem's hidden tests, each distinct program once."""

    def __init__(self, engine: Executor, config: SolveConfig, rule_for: RuleFor) -> None:
        self._engine = engine
        self._limits = config.limits
        self._rule_for = rule_for
        self._tasks: dict[tuple[str, str], asyncio.Task[tuple[bool, int]]] = {}

    def grade(self, problem: Problem, code: str) -> asyncio.Task[tuple[bool, int]]:
        """(passed every hidden test, tests passed before the first failure)."""
        key = (problem.id, code)
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(self._grade(problem, code))
            self._tasks[key] = task
        return task

    async def _grade(self, problem: Problem, code: str) -> tuple[bool, int]:
        result = await self._engine.arun(
            Program.for_problem(code, problem),
            problem.hidden_tests,
            stop_on_failure=True,
            limits=self._limits,
            rule=self._rule_for(problem),
        )
        return result.passed, result.passed_count

    def forget(self, problem: Problem) -> None:
        """Drop a finished problem's memo (its programs are not asked for again)."""
        for key in [key for key in self._tasks if key[0] == problem.id]:
            del self._tasks[key]


class _RunFiles:
    """The run directory's files, or nothing at all without one."""

    def __init__(self, run_dir: Path | None) -> None:
        self.run_dir = run_dir
        self.results = ResultsFile(run_dir) if run_dir is not None else None

    def done(self) -> dict[tuple[str, str], ResultRow]:
        if self.results is None:
            return {}
        return {(r.problem_id, r.method): r for r in self.results.read() if not r.error}

    def add(self, row: ResultRow, result: SolveResult | None) -> None:
        if self.results is None or self.run_dir is None:
            return
        if result is not None:
            traces = self.run_dir / "traces"
            traces.mkdir(parents=True, exist_ok=True)
            line = json.dumps(result.to_dict(), ensure_ascii=False, allow_nan=False)
            append_line(traces / f"{row.method}.jsonl", line)
        self.results.append(row)

    def finish(self, rows: Sequence[ResultRow], summary: Summary) -> None:
        if self.run_dir is None:
            return
        generations = self.run_dir / "generations"
        generations.mkdir(parents=True, exist_ok=True)
        for method in dict.fromkeys(row.method for row in rows):
            write_generations(
                generations / f"{method}.json",
                [
                    Generation(row.problem_id, (row.program or "",))
                    for row in rows
                    if row.method == method
                ],
            )
        write_json_atomic(self.run_dir / SUMMARY_FILE, summary.to_dict())


async def evaluate(
    problems: Sequence[Problem],
    *,
    models: Models,
    engine: Executor,
    config: EvalConfig,
    run_dir: str | Path | None = None,
    rule_for: RuleFor = _default_rule,
    progress: Progress | None = None,
    prices: PriceTable | None = None,
) -> Evaluation:
    """Solve and grade every problem with every method of ``config`` (see the module)."""
    ids = [problem.id for problem in problems]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise ConfigError(
            f"problem id {duplicate!r} appears twice", hint="give each problem its own id"
        )
    held = hold_run_dir(run_dir) if run_dir is not None else contextlib.nullcontext()
    with held:
        return await _evaluate(
            problems,
            models=models,
            engine=engine,
            config=config,
            files=_RunFiles(Path(run_dir) if run_dir is not None else None),
            rule_for=rule_for,
            progress=progress,
            prices=prices,
        )


async def _evaluate(
    problems: Sequence[Problem],
    *,
    models: Models,
    engine: Executor,
    config: EvalConfig,
    files: _RunFiles,
    rule_for: RuleFor,
    progress: Progress | None,
    prices: PriceTable | None,
) -> Evaluation:
    done = files.done()
    grader = _Grader(engine, config.solve, rule_for)
    limiter = asyncio.Semaphore(config.concurrency) if config.concurrency else None
    wanted = {(p.id, m) for p in problems for m in config.methods}
    resumed = [row for key, row in done.items() if key in wanted]
    for row in resumed:
        if progress is not None:
            progress(row)

    async def one(problem: Problem) -> list[ResultRow]:
        todo = [m for m in config.methods if (problem.id, m) not in done]
        if not todo:
            return []
        if limiter is None:
            return await _problem(problem, todo)
        async with limiter:
            return await _problem(problem, todo)

    async def _problem(problem: Problem, methods: Sequence[str]) -> list[ResultRow]:
        deadline = Deadline.after(config.problem_timeout_s) if config.problem_timeout_s else None
        scoped = with_deadline(models, deadline) if deadline is not None else models
        try:
            rows = await Run.gather(
                *(
                    _method(problem, method, scoped, deadline, config, engine, grader, prices)
                    for method in methods
                )
            )
        finally:
            grader.forget(problem)
        for row, result in rows:
            files.add(row, result)
            if progress is not None:
                progress(row)
        return [row for row, _ in rows]

    fresh = await Run.gather(*(one(problem) for problem in problems))
    rows = _in_order(problems, config.methods, [*resumed, *(r for rs in fresh for r in rs)])
    every = _all_rows(files, rows)
    summary = summarize(every, _method_order(every, config.methods))
    files.finish(every, summary)
    return Evaluation(rows=tuple(rows), summary=summary, resumed=len(resumed))


async def _method(
    problem: Problem,
    method: str,
    models: Models,
    deadline: Deadline | None,
    config: EvalConfig,
    engine: Executor,
    grader: _Grader,
    prices: PriceTable | None,
) -> tuple[ResultRow, SolveResult | None]:
    started = time.perf_counter()
    base = _base_row(problem, method)
    work = solve(problem, method, models=models, engine=engine, config=config.solve, prices=prices)
    try:
        if deadline is None:
            result = await work
        else:
            result = await asyncio.wait_for(work, deadline.remaining() + HARD_STOP_GRACE_S)
    except TimeoutError:
        limit = deadline.seconds if deadline is not None else 0.0
        message = f"did not finish within the problem time limit ({limit:g} s)"
        return _error_row(base, message, started), None
    except FATAL_ERRORS:
        raise
    except CodestarError as error:
        return _error_row(base, f"{type(error).__name__}: {error}", started), None
    row = await _graded_row(base, problem, result, grader, config.grade_pool)
    wall = round(time.perf_counter() - started, 3)
    return _replace(row, wall_s=wall), result


async def _graded_row(
    base: ResultRow,
    problem: Problem,
    result: SolveResult,
    grader: _Grader,
    grade_pool: bool,
) -> ResultRow:
    selected = result.selected
    kept = [c for c in result.candidates if c.code is not None]
    samples = [code for code in map(_first_program, result.candidates) if code is not None]
    graded = bool(problem.hidden_tests)
    passed: bool | None = None
    hidden_passed = 0
    pool_passed: int | None = None
    samples_passed: int | None = None
    public_pool_passed: int | None = None
    if graded:
        if result.program is not None:
            passed, hidden_passed = await grader.grade(problem, result.program)
        else:
            passed = False
        if grade_pool:
            # Counted per candidate (pool_passed / pool_size is a random pick's chance);
            # the grader keeps each distinct program's verdict, so a duplicate, or a
            # sample that debugging did not change, is run once.
            outcomes = await Run.gather(*(grader.grade(problem, c.code or "") for c in kept))
            pool_passed = sum(ok for ok, _ in outcomes)
            public_pool_passed = sum(
                ok for (ok, _), c in zip(outcomes, kept, strict=True) if c.passed
            )
            sampled = await Run.gather(*(grader.grade(problem, code) for code in samples))
            samples_passed = sum(ok for ok, _ in sampled)
    return _replace(
        base,
        passed=passed,
        hidden_passed=hidden_passed,
        public_passed=selected.passed_count if selected is not None else 0,
        candidates=len(result.candidates),
        candidates_passing_public=sum(c.passed for c in result.candidates),
        pool_size=len(result.candidates),
        pool_passed=pool_passed,
        samples_passed=samples_passed,
        public_pool_passed=public_pool_passed,
        clusters=len(result.clusters),
        comparisons=len(result.comparisons),
        selection_rule=result.selection.rule,
        usage=usage_of(result.usage, result.cached),
        program=result.program,
        stopped=result.stopped,
        uses_hidden_tests=bool(getattr(result, "uses_hidden_tests", result.method == "oracle")),
    )


def _first_program(candidate: Any) -> str | None:
    """The program of a candidate's first round that had one: the undebugged sample."""
    return next((r.code for r in candidate.rounds if r.code is not None), None)


def _base_row(problem: Problem, method: str) -> ResultRow:
    return ResultRow(
        problem_id=problem.id,
        method=method,
        hidden_tests=len(problem.hidden_tests),
        public_tests=len(problem.public_tests),
        difficulty=problem.difficulty,
        platform=problem.platform,
    )


def _error_row(base: ResultRow, message: str, started: float) -> ResultRow:
    # An unfinished problem counts as failed where it could have been graded.
    return _replace(
        base,
        passed=False if base.hidden_tests else None,
        error=message,
        wall_s=round(time.perf_counter() - started, 3),
    )


def _replace(row: ResultRow, **changes: Any) -> ResultRow:
    values = {name: getattr(row, name) for name in row.__dataclass_fields__}
    values.update(changes)
    return ResultRow(**values)


def _in_order(
    problems: Sequence[Problem], methods: Sequence[str], rows: Sequence[ResultRow]
) -> list[ResultRow]:
    by_key = {(row.problem_id, row.method): row for row in rows}
    return [by_key[(p.id, m)] for p in problems for m in methods if (p.id, m) in by_key]


def _all_rows(files: _RunFiles, rows: list[ResultRow]) -> list[ResultRow]:
    """This run's rows plus the run dir's rows of other problems or methods."""
    if files.results is None:
        return rows
    mine = {(row.problem_id, row.method) for row in rows}
    others = [r for r in files.results.read() if (r.problem_id, r.method) not in mine]
    return [*rows, *others]


def _method_order(rows: Sequence[ResultRow], methods: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*methods, *(row.method for row in rows)]))


def solve_config_dict(config: SolveConfig) -> dict[str, Any]:
    """The manifest's ``solve`` entry (limits are recorded apart)."""
    values = asdict(config)
    values.pop("limits", None)
    return values
