"""`codestar runs`: list the run directories with what each one ran and found."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from codestar.cli.common import emit_json, stdout_console
from codestar.evaluation.catalog import RunInfo, find_runs


def _rates(run: RunInfo) -> str:
    shown = [
        f"{method} {'-' if rate is None else f'{rate:.1%}'}"
        for method, rate in run.pass_at_1.items()
    ]
    return ", ".join(shown) or "-"


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
    a solve run (--run-dir of codestar solve) its model, problems and tokens. An eval
    that is going on now says so, with its pid.

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
    table = Table(title=f"runs under {root}/")
    for column in ("run", "kind", "date", "model", "benchmark", "problems", "pass@1", "tokens"):
        table.add_column(column, justify="right" if column in ("problems", "tokens") else "left")
    for run in found:
        table.add_row(
            str(run.path),
            run.kind if run.running is None else f"{run.kind} (running, pid {run.running})",
            run.created[:19].replace("T", " "),
            ", ".join(run.models) or "-",
            run.benchmark or "-",
            str(run.problems),
            _rates(run),
            f"{run.tokens:,}",
        )
    stdout_console().print(table)
