"""`codestar check`: run one program on a problem's tests and show per-test verdicts."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table

from codestar.cli.common import emit_json, limits_option, load_one_problem, stderr, stdout_console
from codestar.errors import ConfigError
from codestar.execution.engine import Engine
from codestar.execution.types import GradingRule, Program, Verdict

_STYLE = {Verdict.PASSED: "green", Verdict.COMPLETED: "green", Verdict.NOT_RUN: "dim"}


def _snippet(text: str | None, width: int = 40) -> str:
    if not text:
        return ""
    flat = text.strip().replace("\n", "⏎")
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@click.command()
@click.argument("problem_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("program", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--problem", "problem_id", help="Which problem of the file (by id), if it holds several."
)
@click.option(
    "--tests",
    "which",
    type=click.Choice(["public", "hidden", "all"]),
    default="all",
    show_default=True,
    help="Which of the problem's tests to run.",
)
@click.option(
    "--timeout", type=float, help="Wall-clock seconds per test (fractions allowed). [default: 6]"
)
@click.option("--memory", "memory_mb", type=int, help="Memory limit in MiB. [default: 2048]")
@click.option(
    "--float-tolerance",
    type=click.FloatRange(min=0),
    help="Accept numbers within this tolerance, e.g. --float-tolerance 1e-6.",
)
@click.option("--stop-on-failure", is_flag=True, help="Stop at the first test that fails.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def check(
    problem_file: Path,
    program: Path,
    problem_id: str | None,
    which: str,
    timeout: float | None,
    memory_mb: int | None,
    float_tolerance: float | None,
    stop_on_failure: bool,
    as_json: bool,
) -> None:
    """Run PROGRAM on the tests of the problem in PROBLEM_FILE.

    \b
    PROBLEM_FILE: LiveCodeBench or CodeContests records (JSON/JSONL), or a
    Markdown statement with Input/Output examples.
    Exit status: 0 when every test passed, 1 when one failed, 2 on bad input.

    \b
    Examples:
      codestar check examples/sum-of-two.json solution.py
      codestar check lcb.jsonl prog.py --problem 2727 --tests public --json
    """
    limits = limits_option(timeout, memory_mb)
    problem = load_one_problem(problem_file, problem_id)
    tests = problem.tests(which)  # type: ignore[arg-type]
    if not tests:
        raise ConfigError(f"problem {problem.id!r} has no {which} tests", hint="try --tests all")
    try:
        source = program.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise ConfigError(f"cannot read {program}: {error.strerror or error}") from error
    with Engine(workers=1, limits=limits, rule=GradingRule(float_tolerance)) as engine:
        result = engine.run(
            Program.for_problem(source, problem), tests, stop_on_failure=stop_on_failure
        )
        report = engine.isolation
    if as_json:
        emit_json(
            {
                "problem": problem.id,
                "tests": which,
                "passed": result.passed,
                "passed_count": result.passed_count,
                "total": len(tests),
                "isolation": report.to_dict(),
                "outcomes": [
                    dict(o.to_dict(), input=t.input, expected=t.expected)
                    for o, t in zip(result.outcomes, tests, strict=True)
                ],
            }
        )
    else:
        table = Table(title=f"{problem.id}: {result.passed_count}/{len(tests)} passed")
        for column in ("#", "verdict", "time", "input", "expected", "got / error"):
            table.add_column(column)
        for number, (outcome, test) in enumerate(zip(result.outcomes, tests, strict=True), 1):
            style = _STYLE.get(outcome.verdict, "red")
            detail = outcome.error if outcome.error else outcome.output
            table.add_row(
                str(number),
                f"[{style}]{outcome.verdict.value}[/]",
                f"{outcome.elapsed_s * 1000:.1f} ms",
                _snippet(test.input),
                _snippet(test.expected),
                _snippet(detail),
            )
        stdout_console().print(table)
        stderr.print(f"[dim]isolation: {', '.join(report.active)}[/]")
    sys.exit(0 if result.passed else 1)
