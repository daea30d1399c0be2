"""`codestar solve`: solve one problem with S* (or a baseline) and print the program.

stdout gets the selected program (or, with ``--json``, the whole trace as one JSON
object); stderr gets a short live progress view and a summary. The work itself is
`codestar.pipeline.solver.solve`; this module only reads options, opens the
backend, the engine and (with ``--run-dir``) the run store, and reports.

Without ``--run-dir`` nothing is stored: every run asks the model afresh. With it, every
model call is recorded in ``DIR/`` and a rerun with the same options answers identical
requests from there, so a killed run resumes where it stopped.

Models, retries, prices and budgets come from ``--config FILE`` (``codestar.toml``, see
`codestar.llm.config`) with flags on top; `codestar.llm.session` opens them. When a
budget is spent the run stops launching model calls, reports what finished (selected
from that) and exits with status 3.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.live import Live
from rich.markup import escape

from codestar.cli.common import (
    emit_json,
    load_one_problem,
    stderr,
    warn,
)
from codestar.cli.options import (
    budget_options,
    llm_config,
    model_options,
    selection_options,
)
from codestar.cli.progress import SolveProgress, summary_lines
from codestar.errors import ConfigError
from codestar.execution.types import Limits
from codestar.llm.accounting import LedgerReport, PriceTable
from codestar.llm.activity import Activity, WatchedBackend
from codestar.llm.cpu import CpuMeter, CpuShare, shared_arbiter
from codestar.llm.roles import ROLES
from codestar.llm.session import LLMSession
from codestar.pipeline.config import Models, SolveConfig
from codestar.pipeline.methods import METHODS
from codestar.pipeline.solver import solve as solve_problem
from codestar.pipeline.trace import SolveResult
from codestar.problems.model import Problem, ProblemKind
from codestar.problems.records import read_text
from codestar.problems.statement import parse_statement

if TYPE_CHECKING:
    from codestar.llm.local import LocalBackend

HELP = """Solve PROBLEM and print the selected program.

PROBLEM is a LiveCodeBench-format record (JSON or JSON Lines) or a Markdown/text
statement with its examples as "Input:" / "Output:" blocks. Whether the problem reads
stdin or calls a function is inferred; --kind forces it.

The selected program goes to stdout; a live progress view and a summary go to stderr.

\b
Examples:
  codestar solve examples/sum-of-two.json
  codestar solve examples/reverse-words.md --method majority-vote -n 8
  codestar solve problem.json --model gpt-4o-mini --json > trace.json
  codestar solve problem.json --model Qwen/Qwen2.5-Coder-7B-Instruct \\
      --base-url http://localhost:8000/v1 --run-dir runs/qwen7b
  codestar solve problem.json --config codestar.toml --max-cost 0.50 --run-dir runs/p1

Exit status: 0 with a program, 1 when no candidate produced one, 2 for an error
(one line on stderr), 3 when a budget stopped the run (what finished is reported).
"""

#: Exit status of a run that a budget stopped early.
EXIT_BUDGET = 3


def _force_kind(problem: Problem, path: Path, kind: str | None) -> Problem:
    if kind is None or problem.kind.value == kind:
        return problem
    wanted = ProblemKind(kind)
    if problem.metadata.get("source") == "statement":
        return parse_statement(read_text(path), problem_id=problem.id, kind=wanted)
    try:
        return replace(problem, kind=wanted)
    except ValueError as error:
        raise ConfigError(
            f"problem {problem.id!r} cannot be solved as {kind}: {error}",
            hint="a functional problem needs a function name (starter code or func_name)",
        ) from error


def _check_writable(path: Path, option: str = "--out") -> None:
    """Refuse ``--out PATH`` (or ``--report PATH``) before the run when PATH cannot be
    written."""
    parent = path.parent
    if not parent.is_dir():
        raise ConfigError(
            f"cannot write {option} {path}: {parent} is not a directory",
            hint=f"create the directory first, or pass another {option}",
        )
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"cannot write {option} {path}: permission denied")


async def _run(
    problem: Problem,
    session: LLMSession,
    *,
    method: str,
    config: SolveConfig,
    prices: PriceTable,
    progress: SolveProgress,
    meter: CpuMeter | None,
) -> tuple[SolveResult, LedgerReport, CpuShare | None]:
    """The result, the run's books (earlier processes on the same run dir included) and
    the embedded model's CPU share (measured before its server stops)."""
    # Imported here: the engine is not needed to check options.
    from codestar.execution.engine import Engine

    try:
        gate: Any = None
        if session.local:
            # The embedded model and the sandbox take turns on the CPU.
            gate = shared_arbiter().execution
        models = Models.of(session.backends).map(
            lambda backend: WatchedBackend(backend, progress.activity)
        )

        local = _local_backend(session)
        if local is not None:
            # Started before the run, so the CPU meter's baseline holds no model loading.
            progress.refresh()
            await local.start()
            if meter is not None:
                meter.sample()
        # With a run store, executions are kept there too: a resumed run sees the same
        # verdicts (timeouts included) as the interrupted one.
        with Engine(limits=config.limits, gate=gate, cache=session.store) as engine:
            result = await solve_problem(
                problem,
                method,
                models=models,
                engine=engine,
                config=config,
                progress=progress,
                prices=prices,
            )
        share = meter.share() if meter is not None else None
        return result, session.ledger.report(), share
    finally:
        await session.aclose()


def _local_backend(session: LLMSession) -> LocalBackend | None:
    """The first role's embedded-model backend, if a role uses one."""
    if not session.local:
        return None
    from codestar.llm.local import LocalBackend

    for role in ROLES:
        backend = session.raw.for_role(role)
        if isinstance(backend, LocalBackend):
            return backend
    return None


def _meter(local: LocalBackend | None) -> CpuMeter | None:
    """Measures the CPU share the embedded model's server gets while it generates."""
    if local is None:
        return None
    from codestar.llm.local import default_threads

    return CpuMeter(
        lambda: local.server.cpu_seconds() if local.server is not None else None,
        shared_arbiter(),
        default_threads(),
    )


@click.command(help=HELP)
@click.argument(
    "problem_file", metavar="PROBLEM", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--method",
    type=click.Choice(list(METHODS)),
    default="sstar",
    show_default=True,
    help="Method: sstar, or a baseline from the paper, e.g. --method majority-vote.",
)
@click.option(
    "-n",
    "--samples",
    type=int,
    default=16,
    show_default=True,
    help="Candidates to sample (N), e.g. -n 8.",
)
@click.option(
    "--rounds",
    type=int,
    default=2,
    show_default=True,
    help="Debug rounds per candidate on the public tests (R), e.g. --rounds 0.",
)
@model_options
@click.option(
    "--run-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Store every model call here so a rerun resumes with no repeated call, "
    "e.g. --run-dir runs/p1. Default: nothing is stored.",
)
@budget_options
@selection_options
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the full trace (candidates, rounds, inputs, clusters, comparisons, "
    "selection, usage) as one JSON object instead of the program.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the selected program to this file, e.g. --out solution.py.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write an HTML page of the whole solve (candidates, rounds, inputs, "
    "clusters, comparisons, decision) to this file, e.g. --report solve.html.",
)
@click.option(
    "--kind",
    type=click.Choice(["stdin", "functional"]),
    default=None,
    help="Force the problem kind instead of inferring it, e.g. --kind stdin.",
)
@click.option(
    "--problem",
    "problem_id",
    default=None,
    help="Which problem of the file (by id), if it holds several, e.g. --problem 2727.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of sampling and tie-breaking, e.g. --seed 7.",
)
@click.option(
    "--timeout",
    type=float,
    default=None,
    help="Wall-clock seconds per test run (fractions allowed), e.g. --timeout 2. [default: 6]",
)
@click.option(
    "--max-tokens",
    type=int,
    default=2048,
    show_default=True,
    help="Completion budget of every model request, e.g. --max-tokens 512.",
)
@click.option(
    "--inputs",
    "input_count",
    type=int,
    default=8,
    show_default=True,
    help="Test inputs the model is asked to write, e.g. --inputs 4.",
)
def solve(
    problem_file: Path,
    method: str,
    samples: int,
    rounds: int,
    model: str | None,
    judge_model: str | None,
    input_model: str | None,
    base_url: str | None,
    api_key: str | None,
    run_dir: Path | None,
    config_file: Path | None,
    max_total_tokens: int | None,
    max_calls: int | None,
    max_cost: float | None,
    switches: dict[str, Any],
    as_json: bool,
    out: Path | None,
    report_file: Path | None,
    kind: str | None,
    problem_id: str | None,
    seed: int,
    timeout: float | None,
    max_tokens: int,
    input_count: int,
) -> None:
    try:
        limits = Limits(timeout_s=timeout) if timeout is not None else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--timeout") from error
    config = SolveConfig(
        samples=samples,
        rounds=rounds,
        **switches,
        seed=seed,
        max_tokens=max_tokens,
        inputs=input_count,
        limits=limits,
    )
    llm = llm_config(
        config_file=config_file,
        model=model,
        base_url=base_url,
        api_key=api_key,
        judge_model=judge_model,
        input_model=input_model,
        max_total_tokens=max_total_tokens,
        max_calls=max_calls,
        max_cost=max_cost,
    )
    problem = _force_kind(load_one_problem(problem_file, problem_id), problem_file, kind)
    # Refused now, not after the model has run for minutes.
    for target, option in ((out, "--out"), (report_file, "--report")):
        if target is not None:
            _check_writable(target, option)
    # Imported here: building a backend may pull in the embedded model's bindings.
    from codestar.llm.session import open_session

    session = open_session(llm, run_dir=run_dir, api_key=api_key)
    stderr.print(
        f"[bold]{escape(problem.id)}[/] ({problem.kind.value}, {len(problem.public_tests)} "
        f"public tests): {method}, N={samples}, R={rounds}, model "
        f"{escape(llm.roles.generator.name)}"
    )
    local = _local_backend(session)
    activity = Activity()
    progress = SolveProgress(
        samples,
        activity,
        live=stderr.is_terminal,
        starting=lambda: local is not None and local.server is None,
    )
    live = (
        Live(console=stderr, get_renderable=progress.render, transient=True, refresh_per_second=4)
        if progress.live
        else None
    )
    meter = _meter(local)
    with live if live is not None else contextlib.nullcontext():
        result, books, share = asyncio.run(
            _run(
                problem,
                session,
                method=method,
                config=config,
                prices=llm.prices,
                progress=progress,
                meter=meter,
            )
        )
    rate = activity.snapshot().tokens_per_s
    for line in summary_lines(result):
        stderr.print(line, markup=False)
    if rate is not None:
        stderr.print(f"model: {rate:.1f} tokens/s with calls in flight", markup=False)
    if share is not None and share.contended:
        warn(escape(share.describe(rate)))
    if run_dir is not None:
        spent = books.total
        stderr.print(
            f"run {run_dir} so far: {spent.usage.total_tokens} tokens in {spent.usage.calls} "
            f"calls to the model{f', cost {spent.cost:.4f}' if llm.prices.prices else ''}",
            markup=False,
        )
    if out is not None and result.program is not None:
        out.write_text(result.program + "\n", encoding="utf-8")
    if report_file is not None:
        from codestar.report import write_problem_page

        write_problem_page(result, problem, report_file)
        stderr.print(f"report: {report_file}", markup=False)
    if as_json:
        emit_json({**result.to_dict(), "run_usage": books.to_dict()})
    elif result.program is not None:
        sys.stdout.write(result.program.rstrip("\n") + "\n")
    if result.stopped is not None:
        kept = (
            f"kept in {run_dir}; raise the budget and rerun with --run-dir {run_dir}"
            if (run_dir is not None)
            else "use --run-dir to keep it for a rerun"
        )
        click.echo(
            f"stopped: {result.stopped}; the selection used what had finished ({kept})",
            err=True,
        )
        sys.exit(EXIT_BUDGET)
    if result.program is None:
        stderr.print("[red]no candidate produced a program[/]")
        sys.exit(1)
