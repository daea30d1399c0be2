"""`codestar grade`: grade a LiveCodeBench-style generations file, with breakdowns.

Every program of a generations file runs in the sandbox on its problem's tests; pass@1
(and pass@k where code lists are longer) is reported overall, by difficulty and by
platform. Problems that have no generation, and problems that have no hidden tests
(so that "all tests" means only the public examples), are said loudly.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from codestar.cli.benchmark import load_reported
from codestar.cli.common import emit_json, limits_option, stderr, stdout_console, warn
from codestar.cli.execution import open_executor, ray_option
from codestar.errors import ConfigError
from codestar.evaluation.generations import Generation, read_generations
from codestar.evaluation.passk import mean_pass_at_k
from codestar.execution.types import Program, ProgramResult
from codestar.problems.model import Problem, TestCase, TestSelection


def _load(source: str, engine: Any) -> list[Problem]:
    """The problems of a benchmark name or file, expected outputs computed if needed."""
    from codestar.evaluation.prepare import needs_preparation, prepare_problems

    loaded = load_reported(source)
    if not any(needs_preparation(p) for p in loaded.problems):
        return list(loaded.problems)  # nothing to run: no event loop needed
    import asyncio

    return list(asyncio.run(prepare_problems(loaded.problems, engine)).problems)


def _breakdown(
    results: Mapping[str, Sequence[bool]], problems: Mapping[str, Problem], key: str
) -> dict[str, dict[str, Any]]:
    """pass@1 per value of ``key`` (difficulty or platform)."""
    groups: dict[str, dict[str, Sequence[bool]]] = defaultdict(dict)
    for question_id, flags in results.items():
        problem = problems[question_id]
        value = (problem.difficulty if key == "difficulty" else problem.platform) or "unknown"
        groups[value][question_id] = flags
    return {
        value: {"problems": len(group), "pass@1": mean_pass_at_k(group, 1)}
        for value, group in sorted(groups.items())
    }


@click.command()
@click.option(
    "--problems", "problems_source", required=True,
    help="The problems with their tests: a benchmark name (humaneval, codecontests, ...) "
    "or a file (LiveCodeBench, CodeContests, EvalPlus or codestar JSONL).",
)  # fmt: skip
@click.option(
    "--generations", "generations_file", required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='Programs to grade: [{"question_id": ..., "code_list": [...]}] (codestar eval '
    "writes them in RUN_DIR/generations/).",
)  # fmt: skip
@click.option(
    "--tests", "which", type=click.Choice(["all", "hidden", "public"]), default="all",
    show_default=True, help="Which tests to grade on (LiveCodeBench grades on all).",
)  # fmt: skip
@click.option(
    "--timeout", type=click.FloatRange(min=0, min_open=True),
    help="Wall-clock seconds per test. [default: 6]",
)  # fmt: skip
@click.option(
    "--memory", "memory_mb", type=click.IntRange(min=32),
    help="Memory limit in MiB. [default: 2048]",
)  # fmt: skip
@click.option(
    "--workers", type=click.IntRange(min=1), help="Programs run in parallel. [default: cores]"
)  # fmt: skip
@click.option(
    "-k", "ks", multiple=True, type=click.IntRange(min=1),
    help="Also report pass@k (repeatable), e.g. -k 5.",
)  # fmt: skip
@ray_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every result.")
def grade(
    problems_source: str,
    generations_file: Path,
    which: TestSelection,
    timeout: float | None,
    memory_mb: int | None,
    workers: int | None,
    ks: tuple[int, ...],
    ray_address: str | None,
    as_json: bool,
) -> None:
    """Grade every program of a generations file on its problem's tests.

    Each program runs on its problem's tests (by default all of them, public and
    hidden, as LiveCodeBench does), stopping at the first failure. Prints pass@1, and
    pass@k where code lists are longer, overall, by difficulty and by platform.

    \b
    With --json, stdout holds one object whose "results" maps each question_id
    to one boolean per program of its code_list, in order.

    \b
    Examples:
      codestar grade --problems lcb.jsonl --generations gens.json --json
      codestar grade --problems humaneval --generations runs/he/generations/sstar.json
    """
    from codestar.evaluation.prepare import grading_rule

    generations = read_generations(generations_file)
    limits = limits_option(timeout, memory_mb)
    with open_executor(ray_address, workers=workers, limits=limits) as engine:
        problems = {p.id: p for p in _load(problems_source, engine)}
        jobs = _jobs(generations, problems, problems_source, which)
        with _progress(len(jobs), as_json) as advance:
            futures = []
            for question_id, program, tests in jobs:
                future = engine.submit(
                    program, tests, stop_on_failure=True, rule=grading_rule(problems[question_id])
                )
                future.add_done_callback(lambda _f: advance())
                futures.append(future)
            outcomes: list[ProgramResult] = [future.result() for future in futures]
    results: dict[str, list[bool]] = {g.question_id: [] for g in generations}
    for (question_id, _, _), result in zip(jobs, outcomes, strict=True):
        results[question_id].append(result.passed)
    _report(results, problems, generations, which, ks, as_json, len(jobs))


@contextlib.contextmanager
def _progress(total: int, as_json: bool) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr; yields the function that advances it.

    With --json the bar is transient, and on a stderr that is not a terminal a
    transient bar shows nothing at all: then rich's progress module (about 50 ms of
    imports) is not even loaded.
    """
    if as_json and not stderr.is_terminal:
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=stderr, transient=as_json,
    ) as progress:  # fmt: skip
        task = progress.add_task("grading", total=total)
        yield lambda: progress.advance(task)


def _jobs(
    generations: Sequence[Generation],
    problems: Mapping[str, Problem],
    source: str,
    which: TestSelection,
) -> list[tuple[str, Program, tuple[TestCase, ...]]]:
    missing = [g.question_id for g in generations if g.question_id not in problems]
    if missing:
        raise ConfigError(
            f"{len(missing)} question_id(s) of the generations are not in {source}: "
            f"{', '.join(missing[:5])}",
            hint="grade with the problems the generations were made for",
        )
    jobs = []
    for generation in generations:
        problem = problems[generation.question_id]
        tests = problem.tests(which)
        if not tests:
            warn(f"problem {problem.id} has no {which} tests: its programs count as failed")
        for code in generation.code_list:
            jobs.append((problem.id, Program.for_problem(code, problem), tests))
    return jobs


def _report(
    results: dict[str, list[bool]],
    problems: Mapping[str, Problem],
    generations: Sequence[Generation],
    which: TestSelection,
    ks: tuple[int, ...],
    as_json: bool,
    programs: int,
) -> None:
    graded = set(results)
    without_generation = sorted(set(problems) - graded)
    no_hidden = sorted(q for q in graded if not problems[q].hidden_tests)
    if without_generation:
        warn(
            f"{len(without_generation)} problems of the benchmark have no generation "
            f"(not counted): {', '.join(without_generation[:5])}"
        )
    if no_hidden and which != "public":
        warn(
            f"{len(no_hidden)} of {len(graded)} problems have no hidden tests: they were "
            f"graded on their public examples only, e.g. {', '.join(no_hidden[:3])}"
        )
    longest = max((len(v) for v in results.values()), default=0)
    wanted = sorted({1, *ks, *([longest] if longest > 1 else [])})
    scores = {f"pass@{k}": mean_pass_at_k(results, k) for k in wanted}
    breakdowns = {
        "by_difficulty": _breakdown(results, problems, "difficulty"),
        "by_platform": _breakdown(results, problems, "platform"),
    }
    if as_json:
        emit_json(
            {
                "problems": len(results),
                "programs": programs,
                "tests": which,
                **scores,
                **breakdowns,
                "without_generation": without_generation,
                "no_hidden_tests": no_hidden,
                "results": results,
            }
        )
        return
    from rich.table import Table

    table = Table(title=f"{len(results)} problems, {programs} programs ({which} tests)")
    table.add_column("metric")
    table.add_column("problems", justify="right")
    table.add_column("value", justify="right")
    for name, value in scores.items():
        table.add_row(name, str(len(results)), "n/a" if value is None else f"{100 * value:.1f}%")
    for label, groups in breakdowns.items():
        if len(groups) < 2:
            continue
        for group, data in groups.items():
            rate = data["pass@1"]
            shown = "n/a" if rate is None else f"{100 * rate:.1f}%"
            table.add_row(f"pass@1 {label[3:]} {group}", str(data["problems"]), shown)
    stdout_console().print(table)
