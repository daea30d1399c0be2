"""The report's tables as HTML: the summary per method and the table of problems.

The summary tables show what `codestar.evaluation.summary` computes (pass@1 with its
95% interval, the pool's pass@N, a random public-passing pick's expected pass@1, splits
by difficulty and platform, tokens, calls and time per stage), each number in a cell
whose ``data-metric`` and ``data-value`` say what it is, so the page's numbers can be
checked against ``summary.json``. The problem table has one row per problem; its
``data-*`` attributes carry what the page's filters need (which methods solved it,
whether any candidate passed the public tests, errors).

It formats; it computes no statistic of its own (see `codestar.evaluation.summary`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from codestar.evaluation.results import ResultRow
from codestar.report.markup import Markup, element, join
from codestar.report.rundir import RunData


def percent(rate: float | None) -> str:
    """``0.625`` -> ``'62.5%'``; ``None`` -> ``'–'``.

    >>> percent(0.625), percent(None)
    ('62.5%', '–')
    """
    return "–" if rate is None else f"{100 * rate:.1f}%"


def _number(value: float | int | None, metric: str, method: str, text: str | None = None) -> Markup:
    shown = text if text is not None else ("–" if value is None else f"{value:,}")
    return element(
        "td",
        shown,
        class_="num",
        data_metric=metric,
        data_method=method,
        data_value="" if value is None else value,
    )


def _rate_cells(rate: Mapping[str, Any], metric: str, method: str) -> list[Markup]:
    interval = rate.get("ci95")
    ci = "–" if not interval else f"[{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]"
    return [
        _number(rate.get("rate"), f"{metric}.rate", method, percent(rate.get("rate"))),
        element("td", ci, class_="num ci"),
        _number(rate.get("passed"), f"{metric}.passed", method),
        _number(rate.get("graded"), f"{metric}.graded", method),
    ]


def _head(*names: str) -> Markup:
    return element("thead", element("tr", join(element("th", name) for name in names)))


def _pick_text(pick: Mapping[str, Any], data: Mapping[str, Any]) -> str:
    """The random pick's rate, with its own count when it covers fewer problems than
    pass@1 (rows written before codestar recorded it, in a resumed run).

    >>> _pick_text({"rate": 0.5, "graded": 4}, {"pass_at_1": {"graded": 4}})
    '50.0%'
    >>> _pick_text({"rate": 0.5, "graded": 4}, {"pass_at_1": {"graded": 10}})
    '50.0% (of 4)'
    """
    text = percent(pick.get("rate"))
    graded = pick.get("graded") or 0
    if graded and graded < (data.get("pass_at_1") or {}).get("graded", 0):
        text += f" (of {graded})"
    return text


def methods_table(summary: Mapping[str, Any]) -> Markup:
    """One row per method: pass@1, its interval, pass@N, the expected pass@1 of a random
    public-passing pick, tokens, calls, time, errors."""
    rows = []
    for method, data in summary["methods"].items():
        total = data.get("total_usage", {})
        oracle = " (uses hidden tests: a bound)" if data.get("uses_hidden_tests") else ""
        pick = data.get("random_pick") or {}
        cells = [
            element("th", method + oracle, scope="row"),
            _number(data.get("problems"), "problems", method),
            *_rate_cells(data["pass_at_1"], "pass_at_1", method),
            _number(
                data["pass_at_n"].get("rate"),
                "pass_at_n.rate",
                method,
                percent(data["pass_at_n"].get("rate")),
            ),
            _number(pick.get("rate"), "random_pick.rate", method, _pick_text(pick, data)),
            _number(total.get("total_tokens"), "total_tokens", method),
            _number(data.get("new_calls"), "new_calls", method),
            _number(data.get("reused_calls"), "reused_calls", method),
            _number(data.get("wall_s"), "wall_s", method, f"{data.get('wall_s', 0):,.1f}"),
            _number(len(data.get("errors", ())), "errors", method),
            _number(len(data.get("stopped", ())), "stopped", method),
        ]
        rows.append(element("tr", join(cells)))
    head = _head(
        "method",
        "problems",
        "pass@1",
        "95% CI",
        "passed",
        "graded",
        "pass@N",
        "random pick",
        "tokens",
        "new calls",
        "reused calls",
        "wall s",
        "errors",
        "stopped",
    )
    return element("table", head, element("tbody", join(rows)), class_="summary", id="methods")


def split_table(summary: Mapping[str, Any], key: str, title: str) -> Markup:
    """pass@1 per group (difficulty or platform) and method: ``passed/graded (rate)``."""
    methods = list(summary["methods"])
    groups = sorted({g for data in summary["methods"].values() for g in data.get(key, {})})
    rows = []
    for group in groups:
        cells: list[Markup] = [element("th", group, scope="row")]
        for method in methods:
            rate = summary["methods"][method].get(key, {}).get(group)
            if rate is None:
                cells.append(element("td", "–", class_="num"))
                continue
            text = f"{rate['passed']}/{rate['graded']} ({percent(rate.get('rate'))})"
            cells.append(_number(rate.get("rate"), f"{key}.{group}.rate", method, text))
        rows.append(element("tr", join(cells)))
    return element(
        "table", _head(title, *methods), element("tbody", join(rows)), class_="summary", id=key
    )


def usage_table(summary: Mapping[str, Any]) -> Markup:
    """Tokens and calls per method and stage (reused calls came from the run store)."""
    rows = []
    for method, data in summary["methods"].items():
        for stage, usage in data.get("usage", {}).items():
            metric = f"usage.{stage}"
            rows.append(
                element(
                    "tr",
                    element("th", method, scope="row"),
                    element("td", stage),
                    _number(usage.get("prompt_tokens"), f"{metric}.prompt_tokens", method),
                    _number(usage.get("completion_tokens"), f"{metric}.completion_tokens", method),
                    _number(usage.get("calls"), f"{metric}.calls", method),
                    _number(usage.get("reused_calls"), f"{metric}.reused_calls", method),
                )
            )
    head = _head("method", "stage", "prompt tokens", "completion tokens", "calls", "reused")
    return element("table", head, element("tbody", join(rows)), class_="summary", id="usage")


def paired_table(summary: Mapping[str, Any]) -> Markup:
    """The first method against each other: problems only one of the two solved."""
    rows = [
        element(
            "tr",
            element("th", f"{p['first']} vs {p['second']}", scope="row"),
            element("td", p["wins"], class_="num"),
            element("td", p["losses"], class_="num"),
            element("td", p["both"], class_="num"),
            element("td", p["neither"], class_="num"),
        )
        for p in summary.get("paired", ())
    ]
    head = _head("pair", "only the first solved", "only the second", "both", "neither")
    return element("table", head, element("tbody", join(rows)), class_="summary", id="paired")


def _verdict_cell(row: ResultRow | None) -> Markup:
    if row is None:
        return element("td", "", data_sort=-2)
    if row.error:
        return element("td", "error", class_="v error", data_sort=-1, title=row.error)
    if row.passed is None:
        return element("td", "–", class_="v", data_sort=0, title="no hidden tests")
    text, value = ("✓", 2) if row.passed else ("✗", 1)
    title = f"{row.hidden_passed}/{row.hidden_tests} hidden tests before the first failure"
    return element(
        "td",
        text,
        class_="v " + ("pass" if row.passed else "fail"),
        data_sort=value,
        title=None if row.passed else title,
    )


def primary_method(methods: Sequence[str]) -> str | None:
    """The method the table's pool, cluster and token columns describe: S* if run."""
    return "sstar" if "sstar" in methods else (methods[0] if methods else None)


def problems_table(run: RunData) -> Markup:
    """One row per problem; ``data-panel`` names its JSON block."""
    methods = run.methods
    primary = primary_method(methods)
    head = _head(
        "problem",
        "difficulty",
        *methods,
        "public ✓",
        "pool pass@N",
        "clusters",
        "comparisons",
        "tokens",
    )
    rows = []
    for index, problem_id in enumerate(run.problem_ids):
        mine = {m: run.row(problem_id, m) for m in methods}
        main = mine.get(primary) if primary is not None else None
        any_row = main or next((r for r in mine.values() if r is not None), None)
        problem = run.problems.get(problem_id)
        difficulty = any_row.difficulty if any_row else problem.difficulty if problem else None
        trace = run.traces_of(problem_id).get(primary) if primary else None
        public = _public_passing(main, trace)
        pool = "–"
        if main is not None and main.pool_passed is not None:
            pool = f"{main.pool_passed}/{main.pool_size}"
        cells = [
            element("td", problem_id, class_="id"),
            element("td", difficulty or "–"),
            *(_verdict_cell(mine[m]) for m in methods),
            element(
                "td",
                "–" if public is None else public,
                class_="num",
                data_sort=-1 if public is None else public,
            ),
            element("td", pool, class_="num", data_sort=main.pool_passed if main else -1),
            _count(main.clusters if main else _length(trace, "clusters")),
            _count(main.comparisons if main else _length(trace, "comparisons")),
            _count(main.total_usage.total_tokens if main else _tokens(trace)),
        ]
        rows.append(
            element(
                "tr",
                join(cells),
                data_panel=f"panel-{index}",
                data_solved=" ".join(m for m, r in mine.items() if r and r.passed),
                data_failed=" ".join(m for m, r in mine.items() if r and r.passed is False),
                data_public="" if public is None else public,
                data_error="1" if any(r and r.error for r in mine.values()) else None,
                data_stopped="1" if any(r and r.stopped for r in mine.values()) else None,
                tabindex=0,
            )
        )
    return element("table", head, element("tbody", join(rows)), id="problems")


def _count(value: int | None) -> Markup:
    return element(
        "td",
        "–" if value is None else f"{value:,}",
        class_="num",
        data_sort=-1 if value is None else value,
    )


def _length(trace: Mapping[str, Any] | None, key: str) -> int | None:
    return None if trace is None else len(trace.get(key, ()))


def _tokens(trace: Mapping[str, Any] | None) -> int | None:
    return None if trace is None else int(trace.get("total_usage", {}).get("total_tokens", 0))


def _public_passing(row: ResultRow | None, trace: Mapping[str, Any] | None) -> int | None:
    if row is not None and row.candidates:
        return row.candidates_passing_public
    if trace is not None:
        return sum(bool(c.get("passed_public")) for c in trace.get("candidates", ()))
    return None


def filter_options(methods: Sequence[str]) -> Markup:
    """The problem table's filters: every "solved by A, not by B", and the special ones."""
    options = [("all", "all problems")]
    options += [(f"pair:{a}|{b}", f"solved by {a}, not by {b}")
                for a in methods for b in methods if a != b]  # fmt: skip
    options += [
        ("no-public", "no candidate passed the public tests"),
        ("errors", "errors"),
        ("stopped", "stopped early"),
    ]
    return join(element("option", text, value=value) for value, text in options)
