"""HTML reports of runs: a summary with plots, a problem table, and a panel per problem.

    from codestar.report import load_run, write_report, write_problem_page
    write_report(load_run("runs/lcb"), "runs/lcb/report.html")     # an eval run dir
    write_problem_page(result, problem, "page.html")                # one SolveResult

The page is one self-contained file (inline CSS, script and SVG; no network). The run
report's plots need matplotlib (``pip install 'codestar[report]'``); the problem page
does not. Names are re-exported lazily; nothing here runs a model or a program.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codestar.lazy import lazy_exports

if TYPE_CHECKING:
    from codestar.report.page import (
        render_problem_page,
        render_report,
        write_problem_page,
        write_report,
    )
    from codestar.report.rundir import RunData, load_run

_HOMES = {
    "RunData": "rundir",
    "load_run": "rundir",
    "render_problem_page": "page",
    "render_report": "page",
    "write_problem_page": "page",
    "write_report": "page",
}

__all__ = [
    "RunData",
    "load_run",
    "render_problem_page",
    "render_report",
    "write_problem_page",
    "write_report",
]

__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
