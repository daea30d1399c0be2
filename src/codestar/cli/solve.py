"""`codestar solve`: solve one problem with S* (or a baseline) and print the program.

stdout gets the selected program (or, with ``--json``, the whole trace as one JSON
object); stderr gets a short live progress view and a summary. The work itself is
`codestar.pipeline.orchestrator.solve`; this module only reads options, opens the
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
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from rich.live import Live
from rich.text import Text

from codestar.cli.common import emit_json, load_one_problem, stderr
from codestar.errors import ConfigError
from codestar.execution.types import Limits
from codestar.llm.accounting import LedgerReport
from codestar.llm.config import LLMConfig, load_config
from codestar.pipeline.config import Models, SolveConfig
from codestar.pipeline.methods import METHODS
from codestar.pipeline.orchestrator import Event
from codestar.pipeline.orchestrator import solve as solve_problem
from codestar.pipeline.trace import SolveResult
from codestar.problems.model import Problem, ProblemKind
from codestar.problems.records import read_text
from codestar.problems.statement import parse_statement

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


class _ProgressView:
    """Counts progress events and renders them as one status line."""

    def __init__(self, samples: int) -> None:
        self.samples = samples
        self.sampled = 0
        self.debug_rounds = 0
        self.passing: dict[int, bool] = {}
        self.notes: list[str] = []
        self.comparisons = 0

    def __call__(self, event: Event) -> None:
        if event.kind == "sampled":
            self.sampled += 1
        elif event.kind == "debugged":
            self.debug_rounds += 1
        elif event.kind == "compared":
            self.comparisons += 1
        elif event.kind in ("inputs", "clustered", "stopped"):
            self.notes.append(event.detail)
        if event.candidate is not None and event.passed is not None:
            self.passing[event.candidate] = event.passed

    def render(self) -> Text:
        passing = sum(self.passing.values())
        parts = [
            f"sampled {self.sampled}/{self.samples}",
            f"debug rounds {self.debug_rounds}",
            f"passing public {passing}",
        ]
        parts.extend(self.notes[-2:])
        if self.comparisons:
            parts.append(f"comparisons {self.comparisons}")
        return Text(" · ".join(parts), style="cyan")


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


def _summary(result: SolveResult) -> list[str]:
    candidates = result.candidates
    passing = sum(c.passed for c in candidates)
    decided = sum(c.winner is not None for c in result.comparisons)
    lines = [
        f"method {result.method}: {len(candidates)} candidates, {passing} pass the public tests",
    ]
    if result.uses_hidden_tests:
        lines.append("uses hidden tests: the oracle is a bound (pass@N), not a selector")
    if result.stopped is not None:
        drawn = sum(bool(c.rounds) for c in candidates)
        lines.append(f"stopped early by a budget: {drawn} of {len(candidates)} samples drawn")
    if result.inputs or result.inputs_dropped or result.inputs_discarded:
        sources = ", ".join(
            f"{result.input_sources.count(source)} {source}"
            for source in dict.fromkeys(result.input_sources)
        )
        lines.append(
            f"inputs: {len(result.inputs)} kept{f' ({sources})' if sources else ''}, "
            f"{len(result.inputs_discarded)} discarded (most candidates crashed), "
            f"{result.inputs_dropped} malformed"
        )
    if result.clusters:
        sizes = ", ".join(str(len(c.members)) for c in result.clusters)
        lines.append(f"clusters: {len(result.clusters)} (sizes {sizes})")
    if result.comparisons:
        planned = result.comparisons_planned or len(result.comparisons)
        lines.append(
            f"comparisons: {len(result.comparisons)} of {planned} pairs "
            f"({3 * len(result.comparisons)} model calls), {decided} decided"
        )
    if result.context_overflows:
        lines.append(f"prompts over the context: {', '.join(result.context_overflows)}")
    lines.append(f"decision ({result.selection.rule}): {result.selection.reason}")
    usage = ", ".join(_stage_usage(result, stage) for stage in result.usage)
    lines.append(f"tokens: {usage or 'none'}; total {result.total_usage.total_tokens}")
    if result.total_cost is not None:
        lines.append(f"cost: {result.total_cost:.4f}")
    lines.append(f"time: {result.timings.get('total_s', 0.0):.1f} s")
    return lines


def _stage_usage(result: SolveResult, stage: str) -> str:
    usage, cached = result.usage[stage], result.cached.get(stage)
    from_store = f", {cached.calls} from the run store" if cached and cached.calls else ""
    return f"{stage} {usage.total_tokens} ({usage.calls} calls{from_store})"


async def _run(
    problem: Problem,
    *,
    method: str,
    config: SolveConfig,
    llm: LLMConfig,
    api_key: str | None,
    run_dir: Path | None,
    progress: _ProgressView,
    live: Live | None,
) -> tuple[SolveResult, LedgerReport]:
    """The result, and the run's books (earlier processes on the same run dir included)."""
    # Imported here: building a backend may pull in the embedded model's bindings.
    from codestar.execution.engine import Engine
    from codestar.llm.session import open_session

    session = open_session(llm, run_dir=run_dir, api_key=api_key)
    try:
        gate: Any = None
        if session.local:
            from codestar.llm.cpu import shared_arbiter

            # The embedded model and the sandbox take turns on the CPU.
            gate = shared_arbiter().execution
        backends = session.backends
        models = Models(
            backends.generator,
            debugger=backends.debugger,
            input_writer=backends.input_writer,
            judge=backends.judge,
        )

        def on_event(event: Event) -> None:
            progress(event)
            if live is not None:
                live.update(progress.render())

        # With a run store, executions are kept there too: a resumed run sees the same
        # verdicts (timeouts included) as the interrupted one.
        with Engine(limits=config.limits, gate=gate, cache=session.store) as engine:
            result = await solve_problem(
                problem,
                method,
                models=models,
                engine=engine,
                config=config,
                progress=on_event,
                prices=llm.prices,
            )
        return result, session.ledger.report()
    finally:
        await session.aclose()


@click.command(help=HELP)
@click.argument(
    "problem_file", metavar="PROBLEM", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--method",
    "-m",
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
@click.option(
    "--model",
    default=None,
    help="Model spec: 'local' (the embedded model; the default unless --config names "
    "one), 'local:1.5b', or a server's model name, e.g. --model gpt-4o-mini.",
)
@click.option(
    "--judge-model",
    default=None,
    help="Model spec of the judge (default: --model), e.g. --judge-model gpt-4o-mini.",
)
@click.option(
    "--input-model",
    default=None,
    help="Model spec of the input writer (default: --model), e.g. --input-model gpt-4o-mini.",
)
@click.option(
    "--base-url",
    default=None,
    help="OpenAI-compatible endpoint, e.g. --base-url http://localhost:8000/v1.",
)
@click.option(
    "--api-key",
    default=None,
    help="API key for --base-url (default: $OPENAI_API_KEY), e.g. --api-key sk-...",
)
@click.option(
    "--run-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Store every model call here so a rerun resumes with no repeated call, "
    "e.g. --run-dir runs/p1. Default: nothing is stored.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="codestar.toml with [model], [roles], [prices] and [budget] tables (flags "
    "override it), e.g. --config codestar.toml.",
)
@click.option(
    "--max-total-tokens",
    type=click.IntRange(min=0),
    default=None,
    help="Stop launching model calls once the run has used this many tokens "
    "(prompt + completion), e.g. --max-total-tokens 200000.",
)
@click.option(
    "--max-calls",
    type=click.IntRange(min=0),
    default=None,
    help="Launch at most this many model calls, e.g. --max-calls 100.",
)
@click.option(
    "--max-cost",
    type=click.FloatRange(min=0),
    default=None,
    help="Stop launching model calls once the run has cost this much (needs [prices] "
    "in --config), e.g. --max-cost 0.50.",
)
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
    as_json: bool,
    out: Path | None,
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
        seed=seed,
        max_tokens=max_tokens,
        inputs=input_count,
        limits=limits,
    )
    llm = (load_config(config_file) if config_file is not None else LLMConfig()).with_flags(
        model=model,
        base_url=base_url,
        roles={"judge": judge_model, "input_writer": input_model},
        max_tokens=max_total_tokens,
        max_cost=max_cost,
        max_calls=max_calls,
    )
    problem = _force_kind(load_one_problem(problem_file, problem_id), problem_file, kind)
    stderr.print(
        f"[bold]{problem.id}[/] ({problem.kind.value}, {len(problem.public_tests)} public "
        f"tests): {method}, N={samples}, R={rounds}, model {llm.roles.generator.name}"
    )
    progress = _ProgressView(samples)
    live = Live(progress.render(), console=stderr, transient=True) if stderr.is_terminal else None
    with live if live is not None else contextlib.nullcontext():
        result, books = asyncio.run(
            _run(
                problem,
                method=method,
                config=config,
                llm=llm,
                api_key=api_key,
                run_dir=run_dir,
                progress=progress,
                live=live,
            )
        )
    for line in _summary(result):
        stderr.print(line, markup=False)
    if run_dir is not None:
        spent = books.total
        stderr.print(
            f"run {run_dir} so far: {spent.usage.total_tokens} tokens in {spent.usage.calls} "
            f"calls to the model{f', cost {spent.cost:.4f}' if llm.prices.prices else ''}",
            markup=False,
        )
    if out is not None and result.program is not None:
        out.write_text(result.program + "\n", encoding="utf-8")
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
