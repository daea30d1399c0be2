"""The report in a real browser: headless Chromium (Debian's package) over DevTools.

The page must load without a console error or a policy violation, show the numbers of
``summary.json``, filter and sort its table, open a problem's panel with its
comparisons, and show hostile model text and program output as text (no dialog, no
element made from it). Screenshots are kept in the test's tmp dir. Without Chromium
(`make test` tries to install it) these tests skip.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from headless import Browser, find_chromium
from scripted_run import PAYLOAD, PROBLEMS, SOLVED, XSS_ID, solve_one

from codestar.execution.engine import Engine
from codestar.report import load_run, write_problem_page, write_report

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)")
pytest.importorskip("matplotlib")

VISIBLE_IDS = (
    "Array.from(document.querySelectorAll('#problems tbody tr'))"
    ".filter(r => !r.hidden).map(r => r.cells[0].textContent)"
)


@pytest.fixture(scope="module")
def report(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(load_run(run_dir), tmp_path_factory.mktemp("html") / "report.html")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    assert CHROMIUM is not None
    with Browser(CHROMIUM, tmp_path_factory.mktemp("profile")) as running:
        yield running


@pytest.fixture
def page(browser: Browser, report: Path) -> Browser:
    browser.events.clear()
    browser.open(report)
    return browser


def select(browser: Browser, value: str) -> list[str]:
    browser.evaluate(
        f"(() => {{ const s = document.getElementById('filter'); s.value = {json.dumps(value)};"
        " s.dispatchEvent(new Event('change')); })()"
    )
    return sorted(browser.evaluate(VISIBLE_IDS))


def open_panel(browser: Browser, problem_id: str) -> None:
    browser.evaluate(
        "Array.from(document.querySelectorAll('#problems tbody tr'))"
        f".find(r => r.cells[0].textContent === {json.dumps(problem_id)}).click()"
    )
    browser.wait_for(
        f"document.querySelector('#panel h2')?.textContent.startsWith({json.dumps(problem_id)})"
    )


def test_the_page_loads_without_errors_and_shows_summary_json(page: Browser, run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    cells = page.evaluate(
        "Array.from(document.querySelectorAll('td[data-metric]'))"
        ".map(c => [c.dataset.method, c.dataset.metric, c.dataset.value, c.textContent])"
    )
    shown = {(method, metric): (value, text) for method, metric, value, text in cells}
    for method, data in summary["methods"].items():
        rate = data["pass_at_1"]["rate"]
        value, text = shown[(method, "pass_at_1.rate")]
        assert float(value) == pytest.approx(rate)
        assert text == f"{100 * rate:.1f}%"  # what a reader sees
        assert shown[(method, "pass_at_1.graded")][1] == str(data["pass_at_1"]["graded"])
        tokens = data["total_usage"]["total_tokens"]
        assert shown[(method, "total_tokens")][1] == f"{tokens:,}"
    assert page.evaluate("document.querySelectorAll('figure svg').length") == 2
    assert page.errors() == []


def test_a_filter_changes_the_rows_and_a_header_sorts_them(page: Browser) -> None:
    everything = sorted(p.id for p in PROBLEMS)
    assert select(page, "all") == everything
    assert select(page, "pair:sstar|majority-vote") == sorted(
        SOLVED["sstar"] - SOLVED["majority-vote"]
    )
    assert select(page, "pair:majority-vote|sstar") == []
    assert select(page, "no-public") == ["crash"]
    assert select(page, "errors") == ["down"]
    assert "1 of 7" in page.evaluate("document.getElementById('shown').textContent")
    select(page, "all")
    page.evaluate(
        "Array.from(document.querySelectorAll('#problems thead th'))"
        ".find(th => th.textContent === 'tokens').click()"
    )
    tokens = page.evaluate(
        "Array.from(document.querySelectorAll('#problems tbody tr'))"
        ".map(r => Number(r.cells[r.cells.length - 1].dataset.sort))"
    )
    assert tokens == sorted(tokens) and len(set(tokens)) > 1
    assert page.errors() == []


def test_a_problem_panel_opens_with_its_comparisons(page: Browser, tmp_path: Path) -> None:
    open_panel(page, "abs-1")
    text = page.evaluate("document.getElementById('panel').textContent")
    assert page.evaluate("document.querySelectorAll('#panel .comparison').length") == 1
    assert "Winner: cluster 1" in text and "judge answered B" in text and "answered A" in text
    assert "Rule weighted-wins" in text and "Timings: " in text
    stages = page.evaluate(
        "Array.from(document.querySelectorAll('#panel table.usage tbody tr'))"
        ".map(r => r.cells[0].textContent)"
    )
    assert {"generate", "debug", "inputs", "distinguish", "judge"} <= set(stages)
    assert page.evaluate("document.querySelectorAll('#panel table.matrix tbody tr').length") == 5
    assert page.evaluate("document.querySelectorAll('#panel .candidate').length") == 5
    page.evaluate("document.querySelectorAll('#panel details').forEach(d => d.open = true)")
    diff = page.evaluate("document.querySelector('#panel pre.diff .add').textContent")
    assert diff.startswith("+")
    page.screenshot(tmp_path / "panel.png")
    assert (tmp_path / "panel.png").stat().st_size > 10_000
    # Another method's tab shows its own trace: majority vote makes no comparison.
    page.evaluate(
        "Array.from(document.querySelectorAll('#panel .tabs button'))"
        ".find(b => b.textContent === 'majority-vote').click()"
    )
    assert page.evaluate("document.querySelectorAll('#panel .comparison').length") == 0
    page.evaluate("document.querySelector('#panel .close').click()")
    assert page.evaluate("document.getElementById('panel').hidden") is True
    assert page.errors() == []


def test_hostile_model_text_and_program_output_render_as_text(
    page: Browser, tmp_path: Path
) -> None:
    open_panel(page, XSS_ID)
    for tab in range(4):
        page.evaluate(f"document.querySelectorAll('#panel .tabs button')[{tab}].click()")
        page.evaluate("document.querySelectorAll('#panel details').forEach(d => d.open = true)")
        assert page.evaluate("document.querySelectorAll('img, iframe, textarea').length") == 0
        assert page.evaluate("document.querySelectorAll('script').length") == 1 + 7
    text = page.evaluate("document.getElementById('panel').textContent")
    assert PAYLOAD in text and XSS_ID in text
    page.evaluate("document.querySelectorAll('#panel .tabs button')[0].click()")
    page.evaluate("document.querySelectorAll('#panel details').forEach(d => d.open = true)")
    page.screenshot(tmp_path / "xss.png")
    assert page.errors() == []  # an alert would be a dialog here


def test_the_solve_problem_page_opens_on_its_panel(
    browser: Browser, engine: Engine, tmp_path: Path
) -> None:
    problem = PROBLEMS[0]
    result = solve_one(problem, engine)
    browser.events.clear()
    browser.open(write_problem_page(result, problem, tmp_path / "page.html"))
    browser.wait_for("document.querySelector('#panel h2') !== null")
    assert browser.evaluate("document.getElementById('panel').hidden") is False
    assert browser.evaluate("document.querySelectorAll('#panel .comparison').length") == 1
    assert PAYLOAD in browser.evaluate("document.querySelector('#panel pre.statement').textContent")
    browser.screenshot(tmp_path / "problem-page.png")
    assert browser.errors() == []


def test_a_screenshot_of_the_whole_report_is_kept(page: Browser, tmp_path: Path) -> None:
    open_panel(page, "abs-2")
    shot = page.screenshot(tmp_path / "report.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("CODESTAR_REPORT_SCREENSHOT")  # to refresh a copy elsewhere
    if keep:
        shutil.copyfile(shot, keep)


def test_fields_of_newer_traces_are_shown(browser: Browser, engine: Engine, tmp_path: Path) -> None:
    trace = solve_one(PROBLEMS[2], engine).to_dict()
    trace["input_sources"] = ["model", "mutation"][: len(trace["inputs"])]
    trace["candidates"][0]["rounds"][0]["notes"] = ["dropped a stray <input()> call"]
    trace["voters_excluded"] = [4]
    trace["comparisons_planned"] = 3
    (tmp_path / "trace.json").write_text(json.dumps(trace))
    page = write_report(load_run(tmp_path / "trace.json"), tmp_path / "report.html")
    browser.events.clear()
    browser.open(page)
    open_panel(browser, PROBLEMS[2].id)
    browser.evaluate("document.querySelectorAll('#panel details').forEach(d => d.open = true)")
    text = browser.evaluate("document.getElementById('panel').textContent")
    assert "in 2 (mutation)" in text and "Extraction: dropped a stray <input()> call" in text
    assert "candidates 4" in text and "(1 of 3 planned)" in text
    assert browser.errors() == []
