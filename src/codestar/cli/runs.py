"""`codestar runs`: list the run directories with what each one ran and found."""

from __future__ import annotations

from pathlib import Path

import click
from rich import box
from rich.table import Table

from codestar.cli.common import emit_json, stdout_console
from codestar.evaluation.catalog import RunInfo, find_runs


def _rates(run: RunInfo) -> str:
    """One method a line, so that a narrow terminal folds nothing mid-name."""
    shown = [
        f"{method} {'-' if rate is None else f'{rate:.1%}'}"
        for method, rate in run.pass_at_1.items()
    ]
    return "\n".join(shown) or "-"


def _name(run: RunInfo, root: Path) -> str:
    """The run's folder as given under ``root`` (which the title names)."""
    try:
        return str(run.path.relative_to(root)) if run.path != root else "."
    except ValueError:
        return str(run.path)


def _tokens(count: int) -> str:
    """
    >>> _tokens(950), _tokens(12_300), _tokens(2_537_100)
    ('950', '12.3k', '2.54M')
    """
    if count >= 1_000_000:
        return f"{count / 1e6:.2f}M"
    if count >= 10_000:
        return f"{count / 1e3:.1f}k"
    return str(count)


@click.command()
@click.argument(
    "root",
    required=False,
    default="runs",
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every run.")
def runs(root: Path, as_json: bool) -> None:
    """List the runs under ROOT (default: runs/), newest first.

    An eval run shows its benchmark, methods, models, problems and pass@1 per method;
    a solve run (--run-dir of codestar solve; "(solve)" in the benchmark column) its
    model, problems and tokens. An eval that is going on now says so, with its pid, and
    one stopped before its end says "unfinished"; both show pass@1 over the rows so far.

    \b
    Examples:
      codestar runs
      codestar runs experiments/ --json
    """
    found = find_runs(root)
    if as_json:
        emit_json({"root": str(root), "runs": [run.to_dict() for run in found]})
        return
    if not found:
        click.echo(f"no runs under {root}/ (codestar eval and solve --run-dir make them)", err=True)
        return
    table = Table(title=f"runs under {root}/", box=box.SIMPLE_HEAD, pad_edge=False)
    # What must stay whole on a narrow terminal keeps its width; names fold instead.
    table.add_column("run", overflow="fold")
    table.add_column("date", overflow="fold", min_width=10)
    table.add_column("model", overflow="fold")
    table.add_column("benchmark", overflow="fold")
    table.add_column("problems", justify="right", overflow="fold")
    table.add_column("pass@1", overflow="fold")
    table.add_column("tokens", justify="right", no_wrap=True, min_width=6)
    for run in found:
        state = ""
        if run.running is not None:
            state = f"\nrunning, pid {run.running}"
        elif not run.finished:
            state = "\nunfinished"
        table.add_row(
            _name(run, root) + state,
            run.created[:16].replace("T", " "),
            "\n".join(run.models) or "-",
            run.benchmark or f"({run.kind})",
            str(run.problems) if run.finished else f"{run.problems_done}/{run.problems}",
            _rates(run),
            _tokens(run.tokens),
        )
    stdout_console().print(table)
