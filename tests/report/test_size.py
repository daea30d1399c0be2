"""The report of a big run stays small and quick: 500 problems x 16 candidates.

Slow (about half a minute to write the run dir and the page): run with ``-m slow``.
The size is printed (``-s``) and bounded; with Chromium the page is also opened and a
panel rendered, timed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from headless import Browser, find_chromium
from synthetic_run import write_synthetic_run

from codestar.report import load_run, write_report

pytest.importorskip("matplotlib")

PROBLEMS, SAMPLES = 500, 16


@pytest.mark.slow
def test_500_problems_of_16_candidates_make_a_page_of_a_few_megabytes(tmp_path: Path) -> None:
    write_synthetic_run(tmp_path / "run", problems=PROBLEMS, samples=SAMPLES)
    traces = sum(f.stat().st_size for f in (tmp_path / "run" / "traces").iterdir())
    started = time.perf_counter()
    page = write_report(load_run(tmp_path / "run"), tmp_path / "report.html")
    written = time.perf_counter() - started
    size = page.stat().st_size
    print(f"\n{PROBLEMS} x {SAMPLES}: traces {traces / 1e6:.1f} MB -> page {size / 1e6:.1f} MB "
          f"in {written:.1f} s")  # fmt: skip
    assert size < 16e6 and size < traces / 8
    chromium = find_chromium()
    if chromium is None:
        return
    with Browser(chromium, tmp_path / "profile") as browser:
        started = time.perf_counter()
        browser.open(page)
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        browser.evaluate("document.querySelector('#problems tbody tr:last-child').click()")
        browser.wait_for("document.querySelectorAll('#panel .candidate').length === 16")
        opened = time.perf_counter() - started
        print(f"loaded in {loaded:.1f} s, last panel rendered in {opened:.2f} s")
        assert browser.errors() == []
        assert browser.evaluate("document.querySelectorAll('#problems tbody tr').length") == 500
