"""Solve problems: look the method up, give it a `Run`, and run it.

    result = await solve(problem, "sstar", models=Models(backend), engine=engine)

`solve` is the entry point for one problem, `solve_many` for several at once (in input
order, a `CodestarError` in the slot of a problem whose run failed). They live apart
from the orchestrator so that the import graph has no circle: the method registry
imports the stages, the stages import the orchestrator (`Run`, `Event`), and only this
module imports the registry. Benchmark runs, with grading and resume, are
`codestar.evaluation.runner.evaluate`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from codestar.errors import CodestarError, ConfigError
from codestar.llm.accounting import PriceTable
from codestar.pipeline.config import Models, SolveConfig
from codestar.pipeline.methods import get_method
from codestar.pipeline.orchestrator import Executor, Progress, Run
from codestar.pipeline.trace import SolveResult
from codestar.problems.model import Problem


async def solve(
    problem: Problem,
    method: str = "sstar",
    *,
    models: Models,
    engine: Executor,
    config: SolveConfig | None = None,
    progress: Progress | None = None,
    prices: PriceTable | None = None,
) -> SolveResult:
    """Solve one problem with the method registered under ``method``.

    ``prices`` turns the trace's tokens into money per stage. A budget is the backends'
    business (wrap them in a `Ledger` with a `Budget`, see `codestar.llm.session`); when
    it runs out, the result has ``stopped`` set and is selected from what finished.
    """
    function = get_method(method)
    run = Run(
        problem,
        method=method,
        models=models,
        engine=engine,
        config=config or SolveConfig(),
        progress=progress,
        prices=prices,
    )
    try:
        return await function(run)
    finally:
        await run.cancel_pending()


async def solve_many(
    problems: Iterable[Problem],
    method: str = "sstar",
    *,
    models: Models,
    engine: Executor,
    config: SolveConfig | None = None,
    concurrency: int | None = None,
    prices: PriceTable | None = None,
) -> list[SolveResult | CodestarError]:
    """Solve many problems at once, in input order.

    A problem whose run fails with a `CodestarError` (a backend gave up, say) gets that
    error in its slot and the others go on; any other exception is a bug and propagates.
    ``concurrency`` caps how many problems are in flight (``None``: all of them; the
    backends and the engine still bound the actual work).
    """
    if concurrency is not None and concurrency < 1:
        raise ConfigError(f"concurrency must be at least 1, got {concurrency}")
    limiter = asyncio.Semaphore(concurrency) if concurrency else None

    async def one(problem: Problem) -> SolveResult | CodestarError:
        try:
            if limiter is None:
                return await solve(
                    problem, method, models=models, engine=engine, config=config, prices=prices
                )
            async with limiter:
                return await solve(
                    problem, method, models=models, engine=engine, config=config, prices=prices
                )
        except CodestarError as error:
            return error

    return await Run.gather(*(one(problem) for problem in problems))
