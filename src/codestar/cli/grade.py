"""`codestar grade`: grade a LiveCodeBench-style generations file on all tests."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from codestar.cli.common import emit_json, limits_option, stderr, stdout_console, warn
from codestar.errors import ConfigError
from codestar.evaluation.generations import read_generations
from codestar.evaluation.passk import mean_pass_at_k
from codestar.execution.engine import Engine
from codestar.execution.types import GradingRule, Program, ProgramResult
from codestar.problems.loading import load_problems
from codestar.problems.model import Problem, TestCase


@click.command()
@click.option(
    "--problems", "problems_file", required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Problems with their tests (LiveCodeBench or CodeContests records).",
)  # fmt: skip
@click.option(
    "--generations", "generations_file", required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='Programs to grade: [{"question_id": ..., "code_list": [...]}].',
)  # fmt: skip
@click.option("--timeout", type=float, help="Wall-clock seconds per test. [default: 6]")
@click.option("--memory", "memory_mb", type=int, help="Memory limit in MiB. [default: 2048]")
@click.option(
    "--workers", type=click.IntRange(min=1), help="Programs run in parallel. [default: cores]"
)
@click.option(
    "-k", "ks", multiple=True, type=click.IntRange(min=1),
    help="Also report pass@k (repeatable), e.g. -k 1 -k 5.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every result.")
def grade(
    problems_file: Path,
    generations_file: Path,
    timeout: float | None,
    memory_mb: int | None,
    workers: int | None,
    ks: tuple[int, ...],
    as_json: bool,
) -> None:
    """Grade every program of a generations file on its problem's tests.

    Each program runs on all of its problem's tests, public and hidden (as
    LiveCodeBench does), stopping at the first failure. Prints pass@1, and
    pass@k where code lists are longer.

    \b
    With --json, stdout holds one object whose "results" maps each question_id
    to one boolean per program of its code_list, in order.

    \b
    Example:
      codestar grade --problems lcb.jsonl --generations gens.json --json
    """
    loaded = load_problems(problems_file)
    for error in loaded.errors:
        warn(str(error))
    problems = {p.id: p for p in loaded.problems}
    generations = read_generations(generations_file)
    missing = [g.question_id for g in generations if g.question_id not in problems]
    if missing:
        raise ConfigError(
            f"{len(missing)} question_id(s) of the generations are not in {problems_file}: "
            f"{', '.join(missing[:5])}",
            hint="grade with the problems file the generations were made for",
        )
    jobs: list[tuple[str, Program, tuple[TestCase, ...]]] = []
    for generation in generations:
        problem: Problem = problems[generation.question_id]
        tests = problem.tests("all")
        if not tests:
            warn(f"problem {problem.id} has no tests: its programs count as failed")
        for code in generation.code_list:
            jobs.append((problem.id, Program.for_problem(code, problem), tests))
    limits = limits_option(timeout, memory_mb)
    results: dict[str, list[bool]] = {g.question_id: [] for g in generations}
    with (
        Engine(workers=workers, limits=limits, rule=GradingRule()) as engine,
        Progress(
            "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=stderr, transient=as_json,
        ) as progress,
    ):  # fmt: skip
        task = progress.add_task("grading", total=len(jobs))
        outcomes: list[ProgramResult] = engine.run_many(
            [(program, tests) for _, program, tests in jobs],
            stop_on_failure=True,
            on_done=lambda _i, _r: progress.advance(task),
        )
    for (question_id, _, _), result in zip(jobs, outcomes, strict=True):
        results[question_id].append(result.passed)
    longest = max((len(v) for v in results.values()), default=0)
    wanted = sorted({1, *ks, *([longest] if longest > 1 else [])})
    scores = {f"pass@{k}": mean_pass_at_k(results, k) for k in wanted}
    if as_json:
        emit_json({"problems": len(results), "programs": len(jobs), **scores, "results": results})
        return
    table = Table(title=f"{len(results)} problems, {len(jobs)} programs")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in scores.items():
        table.add_row(name, "n/a" if value is None else f"{100 * value:.1f}%")
    stdout_console().print(table)
