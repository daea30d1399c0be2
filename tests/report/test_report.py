"""The report's content without a browser: files, numbers, panels, escaping, errors.

The run dir is a real evaluation (scripted model, real sandbox and run store, see
`scripted_run`); the numbers of the page are read back from its ``data-*`` cells and
compared with ``summary.json``, and each panel's data is decoded as the page would.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from scripted_run import PAYLOAD, POOL, PROBLEMS, RIGHT, SOLVED, XSS_ID, solve_one

from codestar.cli.main import cli
from codestar.errors import ConfigError
from codestar.execution.engine import Engine
from codestar.report import load_run, render_problem_page, write_problem_page, write_report
from codestar.report.markup import read_data_block
from codestar.report.plots import pass_rate_plot

pytest.importorskip("matplotlib")


class Page(HTMLParser):
    """The parts of a report the tests read: metric cells, table rows, data blocks, tags."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.metrics: dict[tuple[str, str], str] = {}
        self.rows: list[dict[str, str]] = []
        self.blocks: dict[str, str] = {}
        self.tags: list[str] = []
        self._block: str | None = None
        self._cell: list[str] | None = None
        self.text = text
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        if "data-metric" in values:
            self.metrics[(values["data-method"], values["data-metric"])] = values["data-value"]
        if tag == "tr" and "data-panel" in values:
            self.rows.append({**values, "cells": ""})
            self._cell = []
        if tag == "script" and values.get("type") == "application/gzip+base64":
            self._block = values["id"]

    def handle_data(self, data: str) -> None:
        if self._block is not None:
            self.blocks[self._block] = self.blocks.get(self._block, "") + data
        elif self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._block = None
        if tag == "td" and self._cell is not None and self.rows:
            self.rows[-1].setdefault("texts", [])  # type: ignore[arg-type]
            self.rows[-1]["texts"].append("".join(self._cell))  # type: ignore[attr-defined]
            self._cell = []
        if tag == "tr":
            self._cell = None

    def panel(self, problem_id: str) -> dict[str, Any]:
        row = next(r for r in self.rows if r["texts"][0] == problem_id)  # type: ignore[index]
        return read_data_block(self.blocks[row["data-panel"]])  # type: ignore[no-any-return]


def strings(data: Any) -> list[str]:
    """Every string inside nested lists and dicts."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        data = list(data.values())
    return [s for item in data for s in strings(item)] if isinstance(data, list) else []


@pytest.fixture(scope="module")
def page(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Page:
    out = write_report(load_run(run_dir), tmp_path_factory.mktemp("page") / "report.html")
    return Page(out.read_text(encoding="utf-8"))


def test_every_number_of_the_summary_is_the_one_in_summary_json(run_dir: Path, page: Page) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    checked = 0
    for method, data in summary["methods"].items():
        expected = {
            "pass_at_1.rate": data["pass_at_1"]["rate"],
            "pass_at_1.passed": data["pass_at_1"]["passed"],
            "pass_at_1.graded": data["pass_at_1"]["graded"],
            "pass_at_n.rate": data["pass_at_n"]["rate"],
            "random_pick.rate": data["random_pick"]["rate"],
            "total_tokens": data["total_usage"]["total_tokens"],
            "new_calls": data["new_calls"],
            "reused_calls": data["reused_calls"],
            **{f"by_difficulty.{k}.rate": v["rate"] for k, v in data["by_difficulty"].items()},
            **{f"usage.{k}.calls": v["calls"] for k, v in data["usage"].items()},
        }
        for metric, value in expected.items():
            assert float(page.metrics[(method, metric)]) == pytest.approx(value), metric
            checked += 1
    assert checked > 30
    assert summary["methods"]["sstar"]["pass_at_1"]["passed"] == len(SOLVED["sstar"])


def test_the_table_has_a_row_per_problem_with_each_methods_verdict(page: Page) -> None:
    assert {r["texts"][0] for r in page.rows} == {p.id for p in PROBLEMS}  # type: ignore[index]
    for row in page.rows:
        problem_id = row["texts"][0]  # type: ignore[index]
        for method, solved in SOLVED.items():
            assert (method in row["data-solved"].split()) == (problem_id in solved)
    errors = {r["texts"][0] for r in page.rows if r.get("data-error")}  # type: ignore[index]
    assert errors == {"down"}
    no_public = {r["texts"][0] for r in page.rows if r.get("data-public") == "0"}  # type: ignore[index]
    assert no_public == {"crash"}


def test_a_panel_has_rounds_with_diffs_feedback_the_matrix_and_comparisons(page: Page) -> None:
    panel = page.panel("abs-1")
    methods = {m["method"]: m for m in panel["methods"]}
    # S* and public-only chose from the same debugged samples: the panel keeps one pool.
    assert methods["sstar"]["pool"] == methods["public-only"]["pool"]
    assert methods["sstar"]["pool"] != methods["majority-vote"]["pool"]  # not debugged
    pool = panel["pools"][methods["sstar"]["pool"]]
    assert len(pool) == len(POOL)
    debugged = pool[3]  # sampled print(n + 1), fixed by its debug round
    first, second = debugged["rounds"]
    assert not first["passed"] and second["passed"] and second["code"] == RIGHT.strip()
    assert "-print(n + 1)" in second["diff"] and "+print(abs(n))" in second["diff"]
    assert "wrong" in json.dumps(first["feedback"]).lower() and second["feedback"] == ""
    assert isinstance(first["completion"], list)  # the quoted program kept once
    trace = methods["sstar"]["trace"]
    # Inputs -5 and 7: print(n) and print(abs(n)) differ on -5 and agree on 7.
    cells = {row["cluster"]: row["cells"] for row in trace["matrix"]["rows"]}
    assert cells[0][0] != cells[1][0] and cells[0][1] == cells[1][1]
    (comparison,) = trace["comparisons"]
    assert comparison["winner"] == 1 and comparison["answers"] == ["B", "A"]
    # The model's distinguishing input (-2) first; differential testing may add more.
    assert comparison["second_outputs"][0]["output"] == "2\n"
    assert trace["selection"]["rule"] == "weighted-wins"  # the default rule
    assert methods["sstar"]["row"]["passed"] is True


def test_untrusted_text_never_reaches_the_page_as_markup(page: Page) -> None:
    # Model text, program output and the problem id all carry HTML and script.
    escaped_id = html.escape(XSS_ID)  # shown as text in the table
    assert PAYLOAD not in page.text and XSS_ID not in page.text
    assert "alert(" not in page.text.replace(escaped_id, "")
    # The only elements are the ones the report writes: no img, iframe or extra script.
    assert "img" not in page.tags and "iframe" not in page.tags
    assert page.tags.count("script") == 1 + len(page.blocks)
    panel = page.panel(XSS_ID)
    assert any(PAYLOAD in text for text in strings(panel))  # kept, as data, to show as text
    hostile = panel["pools"][0][3]["rounds"][0]
    assert "<script>" in hostile["code"]


def test_the_page_runs_only_its_own_script_and_loads_nothing(page: Page) -> None:
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page.text)
    assert policy is not None
    rules = html.unescape(policy.group(1))
    assert "default-src 'none'" in rules
    (script,) = re.findall(r"<script>(.*?)</script>", page.text, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in rules
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page.text)
    assert "link" not in page.tags and "@import" not in page.text


def test_a_solve_result_gets_a_problem_page_without_plots(engine: Engine, tmp_path: Path) -> None:
    problem = PROBLEMS[0]
    result = solve_one(problem, engine)
    out = write_problem_page(result, problem, tmp_path / "page.html")
    page = Page(out.read_text())
    panel = read_data_block(page.blocks["panel-0"])
    assert panel["statement"] == problem.statement
    assert len(panel["methods"][0]["trace"]["comparisons"]) == 1
    assert "svg" not in page.tags
    assert render_problem_page(result).count("gzip+base64") == 1


def test_a_solve_trace_file_is_reported_as_a_run_of_one(engine: Engine, tmp_path: Path) -> None:
    result = solve_one(PROBLEMS[1], engine)
    trace = tmp_path / "trace.json"
    trace.write_text(json.dumps(result.to_dict()))
    run = load_run(trace)
    assert run.problem_ids == (PROBLEMS[1].id,) and run.methods == ("sstar",)
    page = Page(write_report(run, tmp_path / "r.html").read_text())
    assert len(page.rows) == 1 and page.panel(PROBLEMS[1].id)["methods"][0]["trace"]


def test_what_is_not_a_run_is_refused_with_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no results\.jsonl") as caught:
        load_run(tmp_path)
    assert "codestar eval --run-dir" in str(caught.value)
    (tmp_path / "x.json").write_text('{"not": "a trace"}')
    with pytest.raises(ConfigError, match="not a solve trace"):
        load_run(tmp_path / "x.json")


def test_without_matplotlib_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ConfigError, match=re.escape("pip install 'codestar[report]'")):
        pass_rate_plot([])


def test_the_command_writes_the_report_with_statements(run_dir: Path, tmp_path: Path) -> None:
    problems = tmp_path / "problems.jsonl"
    records = [
        {"question_id": p.id, "question_title": p.id, "question_content": p.statement,
         "platform": p.platform, "difficulty": p.difficulty, "public_test_cases": json.dumps(
             [{"input": t.input, "output": t.expected, "testtype": "stdin"}
              for t in p.public_tests]), "private_test_cases": "[]", "starter_code": "",
         "contest_date": "2024-01-01T00:00:00", "metadata": "{}"}
        for p in PROBLEMS
    ]  # fmt: skip
    problems.write_text("\n".join(json.dumps(r) for r in records))
    out = tmp_path / "out.html"
    result = CliRunner().invoke(
        cli, ["report", str(run_dir), "-o", str(out), "--problems", str(problems)]
    )
    assert result.exit_code == 0, result.output
    page = Page(out.read_text())
    assert page.panel("abs-2")["statement"] == PROBLEMS[1].statement
    missing = CliRunner().invoke(cli, ["report", str(tmp_path / "problems.jsonl")])
    assert missing.exit_code == 2 and "as a solve trace" in missing.output
