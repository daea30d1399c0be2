"""`codestar eval`: run methods over a whole benchmark, resumably, and report pass@1.

The work is `codestar.evaluation.runner.evaluate`; this module reads options, loads the
benchmark (`codestar.problems.benchmarks`), computes expected outputs from reference
solutions where the benchmark needs it (`codestar.evaluation.prepare`), opens the
backends with the run store in the run directory, shows progress and prints the summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from codestar.cli.benchmark import load_reported
from codestar.cli.common import emit_json, stderr, warn
from codestar.cli.execution import open_executor, ray_option
from codestar.cli.options import (
    budget_options,
    llm_config,
    model_options,
    selection_options,
)
from codestar.errors import ConfigError
from codestar.evaluation.lock import hold_run_dir
from codestar.evaluation.manifest import build_manifest, read_manifest, reconcile, write_manifest
from codestar.evaluation.results import ResultRow
from codestar.evaluation.runner import EvalConfig, Evaluation, evaluate, solve_config_dict
from codestar.evaluation.summary import MethodSummary, Rate, Summary
from codestar.execution.types import Limits
from codestar.llm.config import LLMConfig
from codestar.pipeline.config import SolveConfig
from codestar.pipeline.methods import METHODS
from codestar.problems.model import Problem

if TYPE_CHECKING:
    from codestar.llm.session import LLMSession

HELP = """Run one or more methods over a benchmark and report pass@1 per method.

BENCHMARK is a registered benchmark (livecodebench, codecontests, humaneval, mbpp,
mbppplus, humanevalplus) or a path to a problems file in any supported format.
Every method runs on every selected problem; methods that share stages share their
model calls (the same samples, debug chains and inputs are asked once), so adding
--method majority-vote to an sstar run costs almost nothing. Each selected program is
graded on the hidden tests in the sandbox; the pool of candidates too (oracle pass@N).

The run directory keeps everything: rerun the same command to resume (a killed run
loses at most the calls in flight; a finished run reruns with zero model calls).
It holds manifest.json, results.jsonl (a row per problem x method), summary.json,
traces/<method>.jsonl and generations/<method>.json (LiveCodeBench's format, for
re-grading with its tools or `codestar grade`).

\b
Examples:
  codestar eval humaneval --method sstar --method majority-vote -n 8 --limit 20
  codestar eval livecodebench --path ../shared/data/lcb_release_v1_public.jsonl \\
      --difficulty easy --start-date 2023-05-01 --end-date 2023-09-01
  codestar eval codecontests --path dev.jsonl --model gpt-4o-mini --run-dir runs/cc
  codestar eval humaneval --problems HumanEval/0,HumanEval/2 --json > summary.json

Exit status: 0 when the run finished (whatever the pass rate), 2 for an error (one
line on stderr), 3 when a budget stopped it (rerun with a larger one to continue).
"""

EXIT_BUDGET = 3


def _split(values: Sequence[str]) -> tuple[str, ...]:
    """Repeated and comma-separated option values, flattened: ``-x a,b -x c``."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date like 2024-08-01", param_hint=name
        ) from None


def _check_run_dir(run_dir: Path) -> None:
    """Fail now, before any model starts, if the run directory cannot be written."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".codestar-write-check"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ConfigError(
            f"cannot write the run directory {run_dir} ({reason})",
            hint="pass --run-dir with a writable directory",
        ) from None


def _default_run_dir(benchmark: str) -> Path:
    name = Path(benchmark).stem if Path(benchmark).suffix else benchmark
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{name}-{stamp}"


def _select(problems: Sequence[Problem], ids: tuple[str, ...], limit: int | None) -> list[Problem]:
    chosen = list(problems)
    if ids:
        known = {p.id: p for p in chosen}
        missing = [i for i in ids if i not in known]
        if missing:
            raise ConfigError(
                f"no problem {missing[0]!r} in the benchmark",
                hint=f"ids there include {', '.join(list(known)[:4]) or 'none'}",
            )
        chosen = [known[i] for i in ids]
    if limit is not None:
        chosen = chosen[:limit]
    return chosen


def _filters(query: Any) -> str:
    """The filters a query applies, as the options that set them."""
    shown = [
        f"--difficulty {','.join(query.difficulty)}" if query.difficulty else "",
        f"--platform {','.join(query.platform)}" if query.platform else "",
        f"--start-date {query.start_date}" if query.start_date else "",
        f"--end-date {query.end_date}" if query.end_date else "",
        f"--release {query.release}" if query.release else "",
    ]
    return " ".join(part for part in shown if part) or "no filter"


#: Without a terminal, a progress line at each tenth of the rows and at least this often.
LINE_EVERY_S = 60.0
#: Rows reported this soon after the start were read back from the run (a resume).
RESUMED_WITHIN_S = 1.0


class _ProgressView:
    """A bar per method (problems done, running pass@1) and a line of model totals.

    Without a terminal: one line at each tenth of the rows and at least once a minute
    while rows arrive, with an ETA from the rate at which this process finishes problems
    (measured from its first finished one; resumed rows and replayed problems do not
    count).
    """

    def __init__(self, methods: Sequence[str], total: int, live: bool) -> None:
        self.total = total
        self.rows: dict[str, list[ResultRow]] = {m: [] for m in methods}
        self.started = time.monotonic()
        self._done = 0
        self._next_line = 0.1
        self._last_line = self.started
        # The rate is measured from the first rows this process finished on, not from
        # its start: with many problems in flight, the first ones take a problem's whole
        # latency to come, and timing from the start would put hours on the ETA.
        # Rows of one problem come together, so the rate is counted in problems.
        self._first_fresh: float | None = None
        self._fresh_problems: set[str] = set()
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._totals: TaskID | None = None
        if live:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=stderr,
                transient=False,
            )
            for method in methods:
                self._tasks[method] = self._progress.add_task(self._label(method), total=total)
            self._totals = self._progress.add_task("model: starting", total=None)

    @contextlib.contextmanager
    def shown(self) -> Iterator[None]:
        if self._progress is None:
            yield
            return
        with self._progress:
            yield

    def _label(self, method: str) -> str:
        rows = self.rows[method]
        graded = [r.passed for r in rows if r.passed is not None]
        rate = f"{sum(graded) / len(graded):6.1%}" if graded else "     -"
        return f"{method:<16} pass@1 {rate}"

    def row(self, row: ResultRow) -> None:
        self.rows.setdefault(row.method, []).append(row)
        self._done += 1
        now = time.monotonic()
        elapsed = now - self.started
        # Earlier rows were read back from the run directory; a row whose every call the
        # store answered is a finished problem replayed (its results file was lost), done
        # in a blink: neither says how fast the problems left will go.
        if elapsed >= RESUMED_WITHIN_S and not _replayed(row):
            if self._first_fresh is None:
                self._first_fresh = now
            self._fresh_problems.add(row.problem_id)
        if self._progress is not None:
            task = self._tasks.get(row.method)
            if task is not None:
                self._progress.update(task, advance=1, description=self._label(row.method))
            return
        everything = self.total * len(self.rows)
        fraction = self._done / max(1, everything)
        due = now - self._last_line >= LINE_EVERY_S
        if fraction >= self._next_line or fraction >= 1 or due:
            self._next_line = math.floor(fraction * 10 + 1) / 10
            self._last_line = now
            parts = ", ".join(f"{m} {self._label(m).split('pass@1')[1].strip()}" for m in self.rows)
            minutes = self._minutes_left(now)
            eta = f", about {minutes:.0f} min left" if minutes is not None else ""
            click.echo(
                f"eval: {self._done}/{everything} rows done ({elapsed:.0f} s{eta}); "
                f"pass@1 so far: {parts}",
                err=True,
            )

    def _minutes_left(self, now: float) -> float | None:
        """Minutes to the last row at the rate this process finishes problems, or None
        before two of them have finished."""
        everything = self.total * len(self.rows)
        since = len(self._fresh_problems) - 1  # problems begun after the first ended
        if self._first_fresh is None or since < 1 or self._done >= everything:
            return None
        per_problem = (now - self._first_fresh) / since
        return (everything - self._done) / max(1, len(self.rows)) * per_problem / 60

    def totals(self, tokens: int, calls: int, reused: int) -> None:
        if self._progress is None or self._totals is None:
            return
        now = time.monotonic()
        elapsed = max(1e-9, now - self.started)
        minutes = self._minutes_left(now)
        left = f", about {minutes:.0f} min left" if minutes is not None else ""
        self._progress.update(
            self._totals,
            description=(
                f"model: {tokens:,} tokens, {calls} calls ({reused} reused), "
                f"{tokens / elapsed:.0f} tokens/s{left}"
            ),
        )


def _replayed(row: ResultRow) -> bool:
    """Whether the run store answered every model call of the row (and it made some)."""
    calls = sum(usage.calls for usage in row.usage.values())
    return calls > 0 and all(usage.new_calls == 0 for usage in row.usage.values())


def _rate(rate: Rate) -> str:
    if not rate.graded:
        return "-"
    data = rate.to_dict()
    low, high = data["ci95"]
    return f"{rate.passed}/{rate.graded} = {rate.value:.1%} [{low:.1%}, {high:.1%}]"


def _summary_table(summary: Summary) -> Table:
    table = Table(title="pass@1 per method (95% Wilson interval)", title_justify="left")
    for column in ("method", "pass@1", "pool pass@N", "new calls", "reused", "tokens", "errors"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for method in summary.methods:
        total = method.total_usage
        name = method.method + (" (uses hidden tests)" if method.uses_hidden_tests else "")
        table.add_row(
            name,
            _rate(method.pass_at_1),
            _rate(method.pass_at_n),
            str(total.new_calls),
            str(total.reused_calls),
            f"{total.total_tokens:,}",
            str(len(method.errors)),
        )
    return table


def _breakdown_lines(method: MethodSummary) -> list[str]:
    lines = []
    pick = method.random_pick
    if pick.graded and pick.value is not None:
        lines.append(
            f"  {method.method}'s pool: a random pick among the candidates that pass the "
            f"public tests solves {pick.passed:.1f}/{pick.graded} expected ({pick.value:.1%})"
        )
    for label, rates in (("difficulty", method.by_difficulty), ("platform", method.by_platform)):
        if len(rates) > 1:
            shown = ", ".join(f"{k} {_rate(v).split(' [')[0]}" for k, v in rates.items())
            lines.append(f"  {method.method} by {label}: {shown}")
    stages = ", ".join(
        f"{stage} {u.total_tokens:,} tokens/{u.new_calls} new+{u.reused_calls} reused calls"
        for stage, u in method.usage.items()
    )
    if stages:
        lines.append(f"  {method.method} per stage: {stages}")
    return lines


def _report(evaluation: Evaluation, run_dir: Path) -> None:
    summary = evaluation.summary
    stderr.print(_summary_table(summary))
    for method in summary.methods:
        for line in _breakdown_lines(method):
            stderr.print(line, markup=False, soft_wrap=True)
    for pair in summary.paired:
        stderr.print(
            f"  {pair.first} vs {pair.second}: {len(pair.first_only)} won, "
            f"{len(pair.second_only)} lost, {pair.both} both, {pair.neither} neither",
            markup=False,
        )
    if summary.no_hidden_tests:
        warn(
            f"{len(summary.no_hidden_tests)} problems have no hidden tests and were graded "
            f"on nothing (left out of pass@1): {', '.join(summary.no_hidden_tests[:5])}"
        )
    for row in evaluation.errors[:5]:
        warn(f"{row.problem_id} ({row.method}): {row.error}")
    if evaluation.resumed:
        stderr.print(f"{evaluation.resumed} rows were already in the run dir (not redone)")
    stderr.print(f"results in {run_dir}/ (summary.json, results.jsonl, generations/)")


def _manifest(
    loaded: Any, problems: Sequence[Problem], config: EvalConfig, llm: LLMConfig, run_dir: Path
) -> dict[str, Any]:
    """The run's manifest, reconciled with the one already in ``run_dir`` (if any)."""
    manifest = build_manifest(
        benchmark={"name": loaded.name, **dict(loaded.info)},
        methods=config.methods,
        models={role: llm.roles.spec_for(role).name for role in _ROLES},
        solve=solve_config_dict(config.solve),
        limits=asdict(config.solve.limits or Limits()),
        problem_ids=[p.id for p in problems],
        extra={
            "concurrency": config.concurrency,
            "problem_timeout_s": config.problem_timeout_s,
            "command": sys.argv,
        },
    )
    return reconcile(read_manifest(run_dir), manifest)


async def _run(
    problems: list[Problem],
    *,
    manifest: dict[str, Any],
    config: EvalConfig,
    llm: LLMConfig,
    session: LLMSession,
    run_dir: Path,
    live: bool,
    ray_address: str | None,
) -> tuple[Evaluation, bool]:
    # Imported here: the loaders and backends pull in what only an eval needs.
    from codestar.evaluation.prepare import grading_rule, prepare_problems
    from codestar.pipeline.config import Models

    limits = config.solve.limits or Limits()
    try:
        gate: Any = None
        if session.local:
            from codestar.llm.cpu import shared_arbiter

            gate = shared_arbiter().execution
        with open_executor(ray_address, limits=limits, gate=gate, cache=session.store) as engine:
            prepared = await prepare_problems(problems, engine)
            problems = list(prepared.problems)
            write_manifest(run_dir, manifest)
            view = _ProgressView(config.methods, len(problems), live)

            async def tick() -> None:
                while True:
                    report = session.ledger.report()
                    view.totals(
                        report.total.usage.total_tokens + report.cached.usage.total_tokens,
                        report.total.usage.calls + report.cached.usage.calls,
                        report.cached.usage.calls,
                    )
                    await asyncio.sleep(0.5)

            models = Models.of(session.backends)
            with view.shown():
                ticker = asyncio.create_task(tick())
                try:
                    evaluation = await evaluate(
                        problems,
                        models=models,
                        engine=engine,
                        config=config,
                        run_dir=run_dir,
                        rule_for=grading_rule,
                        progress=view.row,
                        prices=llm.prices,
                    )
                finally:
                    ticker.cancel()
        budget_spent = bool(session.store is not None and session.store.events("budget"))
        return evaluation, budget_spent
    finally:
        await session.aclose()


_ROLES = ("generator", "debugger", "input_writer", "judge")


@click.command(name="eval", help=HELP)
@click.argument("benchmark")
@click.option(
    "--method",
    "methods",
    multiple=True,
    help="A method to run (repeat or comma-separate; default sstar), e.g. --method "
    f"sstar --method majority-vote. One of: {', '.join(METHODS)}.",
)
@click.option(
    "-n",
    "--samples",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Candidates per problem (N); the paper's ablations use 8, its main table 16.",
)
@click.option(
    "--rounds",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Debug rounds per candidate on the public tests (R), e.g. --rounds 1.",
)
@model_options
@budget_options
@selection_options
@click.option(
    "--path",
    "source_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Read the benchmark from this local file instead of its default source, e.g. "
    "--path ../shared/data/lcb_release_v1_public.jsonl.",
)
@click.option(
    "--release",
    default=None,
    help="LiveCodeBench release: release_v1 .. release_v6, or one slice v1 .. v6.",
)
@click.option("--start-date", default=None, help="Contest date from (inclusive), e.g. 2024-08-01.")
@click.option("--end-date", default=None, help="Contest date to (inclusive), e.g. 2024-11-30.")
@click.option(
    "--difficulty",
    multiple=True,
    help="Keep these difficulties (repeat or comma-separate), e.g. --difficulty easy,medium.",
)
@click.option(
    "--platform",
    multiple=True,
    help="Keep these platforms (repeat or comma-separate), e.g. --platform leetcode.",
)
@click.option(
    "--public-tests",
    type=click.IntRange(min=0),
    default=None,
    help="CodeContests: how many of a problem's tests are public (default 2).",
)
@click.option(
    "--problems",
    "problem_ids",
    multiple=True,
    help="Only these problem ids (repeat or comma-separate), e.g. --problems "
    "HumanEval/0,HumanEval/1.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Only the first K problems (after the filters), e.g. --limit 20.",
)
@click.option(
    "--run-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the run is kept and resumed from (default: runs/BENCHMARK-DATE-TIME), "
    "e.g. --run-dir runs/he-sstar.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Problems in flight at once (default: 8 on the embedded model, twice its slots, "
    "so that some problem always has a request ready; 16 otherwise).",
)
@click.option(
    "--problem-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Wall-clock seconds per problem; past it the problem stops asking the model and "
    "selects from what it has (recorded as stopped), e.g. --problem-timeout 600.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Wall-clock seconds per test run (fractions allowed), e.g. --timeout 2. [default: 6]",
)
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1),
    default=2048,
    show_default=True,
    help="Completion budget of every model request, e.g. --max-tokens 768.",
)
@click.option(
    "--inputs",
    "input_count",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Test inputs the model is asked to write, e.g. --inputs 4.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed, e.g. --seed 7.")
@click.option(
    "--pool/--no-pool",
    default=True,
    show_default=True,
    help="Also grade every candidate on the hidden tests (oracle pass@N of the pool).",
)
@ray_option
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the summary (and the run dir) as one JSON object on stdout.",
)
def eval_command(
    benchmark: str,
    methods: tuple[str, ...],
    samples: int,
    rounds: int,
    model: str | None,
    judge_model: str | None,
    input_model: str | None,
    base_url: str | None,
    api_key: str | None,
    config_file: Path | None,
    max_total_tokens: int | None,
    max_calls: int | None,
    max_cost: float | None,
    switches: dict[str, Any],
    source_path: Path | None,
    release: str | None,
    start_date: str | None,
    end_date: str | None,
    difficulty: tuple[str, ...],
    platform: tuple[str, ...],
    public_tests: int | None,
    problem_ids: tuple[str, ...],
    limit: int | None,
    run_dir: Path | None,
    concurrency: int | None,
    problem_timeout: float | None,
    timeout: float | None,
    max_tokens: int,
    input_count: int,
    seed: int,
    pool: bool,
    ray_address: str | None,
    as_json: bool,
) -> None:
    from codestar.problems.benchmarks import BenchmarkQuery

    chosen_methods = _split(methods) or ("sstar",)
    unknown = [m for m in chosen_methods if m not in METHODS]
    if unknown:
        raise click.BadParameter(
            f"unknown method {unknown[0]!r}; choose from {', '.join(METHODS)}",
            param_hint="--method",
        )
    query = BenchmarkQuery(
        path=source_path,
        release=release,
        start_date=_date(start_date, "--start-date"),
        end_date=_date(end_date, "--end-date"),
        difficulty=_split(difficulty),
        platform=_split(platform),
        public_tests=public_tests,
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
    local = any(spec.local for spec in llm.roles.distinct())
    config = EvalConfig(
        methods=chosen_methods,
        solve=SolveConfig(
            samples=samples,
            rounds=rounds,
            **switches,
            seed=seed,
            max_tokens=max_tokens,
            inputs=input_count,
            limits=Limits(timeout_s=timeout) if timeout is not None else None,
        ),
        concurrency=concurrency or (8 if local else 16),
        problem_timeout_s=problem_timeout,
        grade_pool=pool,
    )
    loaded = load_reported(benchmark, query)
    if not loaded.problems:
        raise ConfigError(
            f"no problem of {loaded.name} matches {_filters(query)}",
            hint="widen the filters",
        )
    problems = _select(loaded.problems, _split(problem_ids), limit)
    directory = run_dir or _default_run_dir(benchmark)
    _check_run_dir(directory)
    with hold_run_dir(directory):
        _eval_in(
            directory,
            loaded=loaded,
            problems=problems,
            config=config,
            llm=llm,
            api_key=api_key,
            ray_address=ray_address,
            as_json=as_json,
        )


def _eval_in(
    directory: Path,
    *,
    loaded: Any,
    problems: list[Problem],
    config: EvalConfig,
    llm: LLMConfig,
    api_key: str | None,
    ray_address: str | None,
    as_json: bool,
) -> None:
    """The eval proper, in a run directory this process holds."""
    samples, rounds = config.solve.samples, config.solve.rounds
    chosen_methods = config.methods
    manifest = _manifest(loaded, problems, config, llm, directory)
    from codestar.llm.session import open_session

    session = open_session(llm, run_dir=directory, api_key=api_key)
    stderr.print(
        f"[bold]eval {loaded.name}[/]: {len(problems)} problems; {', '.join(chosen_methods)}; "
        f"N={samples}, R={rounds}, model {llm.roles.generator.name}; run dir {directory}",
        soft_wrap=True,
    )
    evaluation, budget_spent = asyncio.run(
        _run(
            problems,
            manifest=manifest,
            config=config,
            llm=llm,
            session=session,
            run_dir=directory,
            ray_address=ray_address,
            live=stderr.is_terminal,
        )
    )
    _report(evaluation, directory)
    if as_json:
        emit_json({"run_dir": str(directory), **evaluation.summary.to_dict()})
    if budget_spent:
        click.echo(
            f"stopped: a budget was spent; rerun with a larger one and --run-dir {directory} "
            "to continue",
            err=True,
        )
        sys.exit(EXIT_BUDGET)
