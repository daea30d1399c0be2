"""`codestar solve`'s progress line, driven by real pipeline events and call counts."""

from __future__ import annotations

from typing import Any

import pytest

from codestar.cli.progress import SolveProgress
from codestar.llm.activity import Activity
from codestar.llm.types import Completion, Usage
from codestar.pipeline.orchestrator import Event


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make(*, live: bool, starting: list[bool]) -> tuple[SolveProgress, Activity, Clock, list[str]]:
    clock = Clock()
    written: list[str] = []
    activity = Activity(clock=clock)
    progress = SolveProgress(
        2, activity, live=live, starting=lambda: starting[0], clock=clock, write=written.append
    )
    return progress, activity, clock, written


def test_the_stage_follows_calls_in_flight_and_events() -> None:
    starting = [True]
    progress, activity, clock, written = make(live=False, starting=starting)
    assert progress.stage() == "starting the model"
    progress.refresh()
    starting[0] = False
    activity.started("generate")
    activity.started("inputs")
    assert progress.stage() == "sampling + inputs"
    clock.now = 4.0
    activity.finished("inputs", Completion(text="x", usage=Usage(10, 20, 1)))
    activity.finished("generate", Completion(text="y", usage=Usage(10, 20, 1)))
    assert progress.stage() == "running tests"  # answered, no event yet: programs run
    progress(Event("inputs", "2 inputs, 0 dropped"))
    progress(Event("sampled", candidate=0, passed=True))
    assert progress.stage() == "running tests"  # one sample of two still to come
    progress(Event("sampled", candidate=1, passed=False))
    assert progress.stage() == "clustering"
    activity.started("judge")
    assert progress.stage() == "comparing"
    activity.finished("judge", None)
    progress(Event("clustered", "2 candidates in 2 clusters"))
    progress(Event("selected", "the only cluster"))
    assert progress.stage() == "done"
    assert written[0].startswith("starting the model · 0.0 s · sampled 0/2")
    assert written[-1] == (
        "done · 4.0 s · sampled 2/2 · debug rounds 0 · passing public 1 · 2 inputs, 0 dropped "
        "· 2 candidates in 2 clusters · 60 tokens · 10.0 tok/s"
    )
    # In a log: one line per event, and one per change of stage between events.
    stages = [line.split(" · ")[0] for line in written]
    assert stages == [
        "starting the model",
        "sampling",
        "sampling + inputs",
        "sampling",
        "running tests",
        "running tests",
        "running tests",
        "clustering",
        "comparing",
        "clustering",
        "comparing",
        "done",
    ]


def test_a_live_view_writes_nothing_itself() -> None:
    progress, activity, _, written = make(live=True, starting=[False])
    activity.started("debug")
    progress(Event("debugged", candidate=0, passed=True))
    assert written == [] and progress.render().plain.startswith("debugging · ")
    assert "debug rounds 1" in progress.line() and "- tok/s" in progress.line()


def eval_view(
    monkeypatch: pytest.MonkeyPatch, methods: list[str], total: int, *, live: bool = False
) -> tuple[Clock, Any]:
    """An eval progress view on a clock the test sets."""
    from codestar.cli import eval as eval_cli

    clock = Clock()
    monkeypatch.setattr(eval_cli.time, "monotonic", clock)
    return clock, eval_cli._ProgressView(methods, total=total, live=live)


def test_eval_lines_without_a_terminal_come_each_minute_with_an_eta(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from codestar.evaluation.results import ResultRow

    clock, view = eval_view(monkeypatch, ["sstar"], 100)
    for index in range(20):  # read back from the run directory, at once
        view.row(ResultRow(problem_id=f"p{index}", method="sstar", passed=True))
    capsys.readouterr()
    clock.now = 30.0
    view.row(ResultRow(problem_id="p20", method="sstar", passed=False))
    assert capsys.readouterr().err == ""  # neither a tenth more nor a minute
    clock.now = 61.0
    view.row(ResultRow(problem_id="p21", method="sstar", passed=True))
    line = capsys.readouterr().err
    # 2 rows in 61 s, 78 to go: the ETA ignores the 20 resumed rows.
    assert "22/100 rows done (61 s, about 40 min left)" in line
    assert "sstar 95.5%" in line


def test_the_eval_eta_is_timed_from_the_first_finished_problem_not_the_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from codestar.evaluation.results import ResultRow

    methods = ["sstar", "zero-shot", "public-only"]
    clock, view = eval_view(monkeypatch, methods, 50)

    def problem(index: int, at: float) -> str:
        clock.now = at
        for method in methods:
            view.row(ResultRow(problem_id=f"p{index}", method=method, passed=True))
        return capsys.readouterr().err

    # Many problems in flight: the first one ends after a problem's whole latency
    # (30 minutes), then one ends every 2 minutes.
    first = problem(0, 1800.0)
    assert "min left" not in first  # no rate yet from a single burst
    problem(1, 1920.0)
    line = problem(2, 2040.0)
    # The line comes with problem 2's first row: 2 problems in 240 s after the first
    # one, and 143 rows (47.7 problems) to go.
    assert "7/150 rows done (2040 s, about 95 min left)" in line, line


def test_the_live_eval_view_puts_the_same_eta_on_its_model_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from codestar.evaluation.results import ResultRow

    clock, view = eval_view(monkeypatch, ["sstar"], 10, live=True)
    assert view._progress is not None and view._totals is not None
    for index, at in enumerate((600.0, 660.0, 720.0)):
        clock.now = at
        view.row(ResultRow(problem_id=f"p{index}", method="sstar", passed=True))
    view.totals(tokens=72_000, calls=30, reused=0)
    line = view._progress.tasks[view._totals].description
    # 2 problems in 120 s after the first one, 7 to go: 7 minutes.
    assert line == "model: 72,000 tokens, 30 calls (0 reused), 100 tokens/s, about 7 min left"


def test_problems_replayed_from_the_store_do_not_set_the_eval_eta(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from codestar.evaluation.results import ResultRow, StageUsage

    clock, view = eval_view(monkeypatch, ["sstar"], 100)
    replayed = {"sample": StageUsage(calls=4, reused_calls=4)}
    fresh = {"sample": StageUsage(calls=4, reused_calls=1)}
    # The results file was lost: 90 finished problems come back from the store's
    # answers, one every 50 ms after the first seconds; they cost no model call.
    for index in range(90):
        clock.now = 2.0 + index * 0.05
        view.row(ResultRow(problem_id=f"p{index}", method="sstar", passed=True, usage=replayed))
    capsys.readouterr()
    for index, at in ((90, 600.0), (91, 720.0), (92, 840.0)):
        clock.now = at
        view.row(ResultRow(problem_id=f"p{index}", method="sstar", passed=True, usage=fresh))
    line = capsys.readouterr().err
    # 2 new problems in 240 s after the first new one, 7 to go: 14 minutes, not seconds.
    assert "93/100 rows done (840 s, about 14 min left)" in line, line
