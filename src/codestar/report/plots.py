"""The summary plots as inline SVG, drawn with matplotlib (the ``report`` extra).

`pass_rate_plot`: pass@1 per method with its 95% interval, and the method's oracle
pass@N as a mark. `scaling_plot`: pass@1 against the tokens a method spent per problem
(the test-time scaling picture: more compute, more solved?). Each returns an ``<svg>``
element as text, ready to be placed in the page; text in it is escaped by matplotlib.

matplotlib is imported when a plot is drawn, never at import time; without it the
functions raise `ConfigError` with the install line. Nothing here reads a run.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codestar.errors import ConfigError

INSTALL_HINT = "install the plotting extra: pip install 'codestar[report]'"


@dataclass(frozen=True, slots=True)
class MethodPoint:
    """One method as the plots show it (rates in [0, 1], ``None`` when nothing graded)."""

    method: str
    pass_at_1: float | None
    low: float
    high: float
    pass_at_n: float | None
    tokens_per_problem: float


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as error:
        raise ConfigError("the report's plots need matplotlib", hint=INSTALL_HINT) from error
    matplotlib.use("Agg", force=True)  # no display; the page gets SVG text
    import matplotlib.pyplot as pyplot

    return pyplot


def _svg(figure: Any, pyplot: Any) -> str:
    buffer = io.StringIO()
    # No date (and the fixed hash salt of `_style`): the same numbers give the same SVG.
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    pyplot.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _style(pyplot: Any) -> None:
    pyplot.rcParams.update(
        {
            "svg.hashsalt": "codestar",
            "svg.fonttype": "none",  # text stays text: smaller, selectable
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


def pass_rate_plot(points: Sequence[MethodPoint]) -> str:
    """Bars of pass@1 per method with 95% intervals; a diamond at pass@N."""
    pyplot = _pyplot()
    _style(pyplot)
    figure, axes = pyplot.subplots(figsize=(max(3.6, 1.1 * len(points) + 1.5), 2.8))
    names = [p.method for p in points]
    rates = [p.pass_at_1 or 0.0 for p in points]
    graded = [p.pass_at_1 is not None for p in points]
    errors = [
        [max(0.0, r - p.low) * g for p, r, g in zip(points, rates, graded, strict=True)],
        [max(0.0, p.high - r) * g for p, r, g in zip(points, rates, graded, strict=True)],
    ]
    positions = list(range(len(points)))
    axes.bar(positions, rates, yerr=errors, capsize=4, color="#4c78a8", label="pass@1 (95% CI)")
    oracle = [(i, p.pass_at_n) for i, p in enumerate(points) if p.pass_at_n is not None]
    if oracle:
        axes.scatter(
            [i for i, _ in oracle],
            [v for _, v in oracle],
            marker="D",
            color="#f58518",
            zorder=3,
            label="pass@N (pool)",
        )
    axes.set_xticks(positions, names, rotation=20, ha="right")
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("problems solved")
    # Above the axes: inside them it covers the tops of the bars when pass@1 is high.
    axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, fontsize=8, frameon=False)
    return _svg(figure, pyplot)


def label_offsets(xy: Sequence[tuple[float, float]]) -> list[tuple[int, int]]:
    """Where each point's label goes (in points from the point), so that labels of
    points close together do not print over each other: a label that would fall near
    one already placed goes below its point instead, then further down.

    >>> label_offsets([(100, 0.80), (5000, 0.80), (110, 0.81)])
    [(5, 4), (5, 4), (5, -10)]
    """
    xs = [x for x, _ in xy]
    span = (max(xs) - min(xs)) if xs else 0.0
    placed: list[tuple[float, float]] = []
    offsets = []
    for x, y in xy:
        step = 0
        while any(
            abs(x - px) <= 0.15 * span and abs(y - step * 0.1 - py) < 0.06 for px, py in placed
        ):
            step += 1
        placed.append((x, y - step * 0.1))  # 14 points is about 0.1 of the y axis
        offsets.append((5, 4 - 14 * step))
    return offsets


def scaling_plot(points: Sequence[MethodPoint]) -> str:
    """pass@1 (with its interval) against tokens per problem, one point per method."""
    pyplot = _pyplot()
    _style(pyplot)
    figure, axes = pyplot.subplots(figsize=(4.6, 2.8))
    shown = [(p, p.pass_at_1) for p in points if p.pass_at_1 is not None]
    offsets = label_offsets([(p.tokens_per_problem, rate) for p, rate in shown])
    for (point, rate), offset in zip(shown, offsets, strict=True):
        axes.errorbar(
            [point.tokens_per_problem],
            [rate],
            yerr=[[max(0.0, rate - point.low)], [max(0.0, point.high - rate)]],
            fmt="o",
            capsize=3,
        )
        axes.annotate(
            point.method,
            (point.tokens_per_problem, rate),
            textcoords="offset points",
            xytext=offset,
            fontsize=8,
        )
    spent = [p.tokens_per_problem for p in points if p.tokens_per_problem > 0]
    if spent and max(spent) / min(spent) > 20:
        axes.set_xscale("log")
    axes.set_ylim(0, 1.05)
    axes.set_xlabel("tokens per problem (new and reused)")
    axes.set_ylabel("pass@1")
    return _svg(figure, pyplot)
