"""The report as one self-contained HTML file: summary, plots, problem table, panels.

`render_report` lays out a run (`RunData`): the summary tables and two plots (inline
SVG), the filterable, sortable problem table, and one compressed JSON block per problem that the
page's script turns into the problem panel when its row is opened (so 500 problems cost
no rendering until looked at). `render_problem_page` is the same panel alone, opened,
for one `SolveResult` (`codestar solve --report`). CSS and the script are inlined from
``assets/``; a Content-Security-Policy allows that one script (by hash) and nothing
from the network, so the file opens from disk anywhere and an injected tag could not
run even if escaping failed.

It does not compute statistics (`codestar.evaluation.summary`) or read run dirs
(`codestar.report.rundir`).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from codestar import __version__
from codestar.atomic import write_text_atomic
from codestar.pipeline.trace import SolveResult
from codestar.problems.model import Problem
from codestar.report.markup import Markup, data_block, element, join
from codestar.report.panels import problem_panel
from codestar.report.plots import MethodPoint, pass_rate_plot, scaling_plot
from codestar.report.rundir import RunData
from codestar.report.tables import (
    filter_options,
    methods_table,
    paired_table,
    problems_table,
    split_table,
    usage_table,
)


def _asset(name: str) -> str:
    return resources.files("codestar.report").joinpath("assets", name).read_text("utf-8")


def _document(title: str, body: Markup) -> str:
    script = _asset("report.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    policy = (
        f"default-src 'none'; script-src 'sha256-{digest}'; "
        "style-src 'unsafe-inline'; img-src data:"
    )
    head = join(
        [
            Markup('<meta charset="utf-8">'),
            element("meta", http_equiv="Content-Security-Policy", content=policy),
            Markup('<meta name="viewport" content="width=device-width, initial-scale=1">'),
            element("title", title),
            Markup(f"<style>{_asset('report.css')}</style>"),
        ]
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head>{head}</head>'
        f"<body>{body}<script>{script}</script></body></html>\n"
    )


def _points(summary: Mapping[str, Any]) -> list[MethodPoint]:
    points = []
    for method, data in summary["methods"].items():
        rate = data["pass_at_1"]
        low, high = rate.get("ci95") or (0.0, 0.0)
        problems = max(1, int(data.get("problems") or 0))
        points.append(
            MethodPoint(
                method=method,
                pass_at_1=rate.get("rate"),
                low=low,
                high=high,
                pass_at_n=data["pass_at_n"].get("rate"),
                tokens_per_problem=data.get("total_usage", {}).get("total_tokens", 0) / problems,
            )
        )
    return points


def _section(title: str, *content: object, **attributes: object) -> Markup:
    return element("section", element("h2", title), *content, **attributes)


def _summary(summary: Mapping[str, Any]) -> Markup:
    points = _points(summary)
    plots = element(
        "div",
        element(
            "figure",
            Markup(pass_rate_plot(points)),
            element("figcaption", "pass@1 per method (95% Wilson interval), pool pass@N"),
        ),
        element(
            "figure",
            Markup(scaling_plot(points)),
            element("figcaption", "pass@1 against tokens spent per problem"),
        ),
        class_="plots",
    )
    no_hidden = summary.get("no_hidden_tests", ())
    note = (
        element("p", f"{len(no_hidden)} problem(s) have no hidden tests and are not graded.")
        if no_hidden
        else ""
    )
    return _section(
        "Summary",
        element(
            "p",
            f"{summary['problems']} problems, {len(summary['methods'])} methods.",
            id="overview",
            data_problems=summary["problems"],
        ),
        methods_table(summary),
        element(
            "p",
            "pass@N: some candidate of the method's pool passes (a bound, not a selector). "
            "random pick: the expected pass@1 of a uniform pick among the candidates that "
            'pass the public tests, the bar a selector has to clear; "(of k)" when only k '
            "problems' rows record it (rows written by an older codestar in a resumed run).",
            class_="legend",
        ),
        note,
        plots,
        element("h3", "By difficulty"),
        split_table(summary, "by_difficulty", "difficulty"),
        element("h3", "By platform"),
        split_table(summary, "by_platform", "platform"),
        element("h3", "Tokens and calls per stage"),
        usage_table(summary),
        element("h3", "Paired"),
        paired_table(summary),
        id="summary",
    )


def _header(title: str, facts: Mapping[str, object]) -> Markup:
    items = join(element("div", element("dt", k), element("dd", v)) for k, v in facts.items() if v)
    return element("header", element("h1", title), element("dl", items, class_="facts"))


def _run_facts(run: RunData) -> dict[str, object]:
    manifest = run.manifest
    benchmark = manifest.get("benchmark") or {}
    models = manifest.get("models") or {}
    solve = manifest.get("solve") or {}
    return {
        "run": run.source,
        "benchmark": benchmark.get("name") if isinstance(benchmark, dict) else benchmark,
        "models": ", ".join(f"{role}: {name}" for role, name in models.items()),
        "samples": solve.get("samples"),
        "rounds": solve.get("rounds"),
        "created": manifest.get("created"),
        "report": f"codestar {__version__}, {datetime.now(UTC).isoformat(timespec='seconds')}",
    }


def render_report(run: RunData) -> str:
    """The whole report of ``run`` as HTML text."""
    summary = run.summary.to_dict()
    blocks = []
    for index, problem_id in enumerate(run.problem_ids):
        traces = run.traces_of(problem_id)
        rows = {m: r for m in run.methods if (r := run.row(problem_id, m)) is not None}
        panel = problem_panel(problem_id, run.methods, traces, rows, run.problems.get(problem_id))
        blocks.append(data_block(f"panel-{index}", panel))
    controls = element(
        "div",
        element("label", "show ", element("select", filter_options(run.methods), id="filter")),
        element("label", " id ", element("input", type="search", id="search")),
        element("span", "", id="shown", class_="muted"),
        class_="controls",
    )
    body = join(
        [
            _header("codestar report", _run_facts(run)),
            _summary(summary),
            _section("Problems", controls, problems_table(run), id="problems-section"),
            element("aside", "", id="panel", hidden=True),
            join(blocks),
        ]
    )
    return _document(f"codestar report: {run.source}", body)


def render_problem_page(result: SolveResult, problem: Problem | None = None) -> str:
    """The problem page of one solve, open on load."""
    trace = result.to_dict()
    panel = problem_panel(result.problem_id, [result.method], {result.method: trace}, {}, problem)
    facts = {
        "method": result.method,
        "models": ", ".join(f"{role}: {name}" for role, name in result.models.items()),
        "tokens": f"{result.total_usage.total_tokens:,}",
        "report": f"codestar {__version__}, {datetime.now(UTC).isoformat(timespec='seconds')}",
    }
    body = join(
        [
            _header(f"codestar: {result.problem_id}", facts),
            element("aside", "", id="panel", hidden=True, data_open="panel-0"),
            data_block("panel-0", panel),
        ]
    )
    return _document(f"codestar: {result.problem_id}", body)


def _write(path: Path, text: str) -> None:
    """Write atomically: a reader never sees half a page."""
    write_text_atomic(path, text)


def write_report(run: RunData, path: str | Path) -> Path:
    """Write the report of ``run`` to ``path`` (needs matplotlib: the ``report`` extra)."""
    target = Path(path)
    _write(target, render_report(run))
    return target


def write_problem_page(result: SolveResult, problem: Problem | None, path: str | Path) -> Path:
    """Write the page of one solve to ``path`` (no plots: needs no extra)."""
    target = Path(path)
    _write(target, render_problem_page(result, problem))
    return target
