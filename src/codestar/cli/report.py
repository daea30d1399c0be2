"""`codestar report`: write the HTML report of a run directory (or of one solve trace)."""

from __future__ import annotations

from pathlib import Path

import click

from codestar.cli.common import stderr, warn
from codestar.problems.loading import load_problems
from codestar.report.page import write_report
from codestar.report.rundir import load_run


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the page. Default: RUN_DIR/report.html (next to a trace file).",
)
@click.option(
    "--problems",
    "problems_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The benchmark file, to show each problem's statement (e.g. lcb.jsonl).",
)
def report(run_dir: Path, output: Path | None, problems_file: Path | None) -> None:
    """Write one self-contained HTML report of RUN_DIR.

    RUN_DIR is a `codestar eval --run-dir` directory, or the JSON that
    `codestar solve --json` printed. The page has the summary (pass@1 with intervals,
    pass@N, tokens per stage, plots), a sortable, filterable problem table and, per
    problem, every candidate, debug round, input, cluster and comparison. It needs no
    network and opens from disk.

    \b
    Examples:
      codestar report runs/lcb
      codestar report runs/lcb -o lcb.html --problems lcb_release_v1.jsonl
      codestar solve problem.json --json > trace.json && codestar report trace.json
    """
    run = load_run(run_dir)
    if problems_file is not None:
        loaded = load_problems(problems_file)
        for error in loaded.errors:
            warn(str(error))
        wanted = set(run.problem_ids)
        run = run.with_problems({p.id: p for p in loaded.problems if p.id in wanted})
        if not run.problems:
            warn(f"no problem of the run is in {problems_file}: statements are left out")
    if output is None:
        output = (run_dir if run_dir.is_dir() else run_dir.parent) / "report.html"
    written = write_report(run, output)
    size = written.stat().st_size
    stderr.print(f"wrote {written} ({size / 1e6:.1f} MB, {len(run.problem_ids)} problems)")
