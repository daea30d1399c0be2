"""`find_runs`: eval run directories by their manifest and summary, solve run
directories by their run store, opened read-only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from codestar.evaluation.catalog import find_runs
from codestar.llm.store import CallRecord, RunStore, now


def call(problem: str, tokens: int) -> CallRecord:
    return CallRecord(
        f"key-{problem}-{tokens}", "local:0.5b", "generate", None, problem, 0, "[]", "{}",
        "print(1)", None, "stop", tokens, 1, 0.1, None, now(),
    )  # fmt: skip


def runs_table(root: Path) -> subprocess.CompletedProcess[str]:
    """`codestar runs ROOT` as a user runs it, on a wide terminal."""
    return subprocess.run(
        [sys.executable, "-m", "codestar", "runs", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_eval_and_solve_runs_are_listed_newest_first(tmp_path: Path) -> None:
    solve_dir = tmp_path / "solve-1"
    with RunStore(solve_dir) as store:
        store.record_call(call("p1", 10))
        store.record_call(call("p2", 20))
    eval_dir = tmp_path / "he"
    eval_dir.mkdir()
    (eval_dir / "manifest.json").write_text(
        json.dumps(
            {
                "created": "2999-01-01T00:00:00+00:00",
                "benchmark": {"name": "humaneval"},
                "methods": ["sstar", "zero-shot"],
                "models": {"generator": "local:0.5b", "judge": "local:0.5b"},
                "problem_ids": ["a", "b", "c"],
            }
        )
    )
    (eval_dir / "summary.json").write_text(
        json.dumps(
            {
                "methods": {
                    "sstar": {
                        "pass_at_1": {"rate": 0.5},
                        "total_usage": {"total_tokens": 300},
                        "new_calls": 7,
                    },
                    "zero-shot": {
                        "pass_at_1": {"rate": None},
                        "total_usage": {"total_tokens": 0},
                        "new_calls": 0,
                    },
                }
            }
        )
    )
    (tmp_path / "not-a-run").mkdir()
    before = (solve_dir / "run.sqlite").stat().st_mtime_ns
    runs = find_runs(tmp_path)
    assert [r.kind for r in runs] == ["eval", "solve"]
    listed_eval, listed_solve = runs
    assert listed_eval.benchmark == "humaneval" and listed_eval.problems == 3
    assert listed_eval.pass_at_1 == {"sstar": 0.5, "zero-shot": None}
    assert listed_eval.models == ("local:0.5b",) and listed_eval.tokens == 300
    assert listed_solve.problems == 2 and listed_solve.tokens == 32 and listed_solve.calls == 2
    assert (solve_dir / "run.sqlite").stat().st_mtime_ns == before  # read-only
    assert find_runs(tmp_path / "absent") == []


def test_an_eval_going_on_in_another_process_is_listed_as_running(tmp_path: Path) -> None:
    run_dir = tmp_path / "he"
    run_dir.mkdir()
    (run_dir / "manifest.json").write_text(json.dumps({"benchmark": {"name": "humaneval"}}))
    [idle] = find_runs(tmp_path)
    assert idle.running is None and idle.to_dict()["running_pid"] is None
    hold = (
        "import sys, time\n"
        "from codestar.evaluation.lock import hold_run_dir\n"
        "with hold_run_dir(sys.argv[1]):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(120)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", hold, str(run_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "held"
        [busy] = find_runs(tmp_path)
        assert busy.running == process.pid
        listed = runs_table(tmp_path)
        assert f"running, pid {process.pid}" in listed.stdout, listed.stdout
    finally:
        process.kill()
        process.wait(timeout=30)
    [after] = find_runs(tmp_path)
    assert after.running is None  # the kernel dropped the dead holder's lock


def test_an_eval_stopped_before_its_end_is_summarized_from_its_rows(tmp_path: Path) -> None:
    from codestar.evaluation.results import ResultRow, ResultsFile

    run_dir = tmp_path / "he"
    run_dir.mkdir()
    (run_dir / "manifest.json").write_text(
        json.dumps(
            {
                "benchmark": {"name": "humaneval"},
                "methods": ["sstar", "zero-shot"],
                "problem_ids": ["a", "b", "c", "d"],
            }
        )
    )
    results = ResultsFile(run_dir)
    for problem, method, passed in [
        ("a", "sstar", True),
        ("a", "zero-shot", False),
        ("b", "sstar", False),
    ]:
        results.append(ResultRow(problem_id=problem, method=method, passed=passed, hidden_tests=1))
    [partial] = find_runs(tmp_path)
    assert not partial.finished and partial.problems_done == 2 and partial.problems == 4
    assert partial.pass_at_1 == {"sstar": 0.5, "zero-shot": 0.0}
    listed = runs_table(tmp_path)
    assert "unfinished" in listed.stdout and "2/4" in listed.stdout, listed.stdout
    # A summary written after the last row is the run's own, finished account.
    summary = {"problems": 4, "methods": {"sstar": {"pass_at_1": {"rate": 0.75}}}}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    [done] = find_runs(tmp_path)
    assert done.finished and done.pass_at_1 == {"sstar": 0.75} and done.problems_done == 4
