"""`codestar solve` against a misbehaving model server, as a user meets it: a subprocess,
real HTTP on 127.0.0.1 (`tests/llm/faultserver.py`), the real sandbox.

Transient faults are retried and the run succeeds; a persistent failure ends with one
``error:`` line on stderr (no traceback), exit status 2, and the failure in the run
store; a spent budget stops the run cleanly with exit status 3 and a rerun with a larger
budget continues from the run store.
"""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path

import pytest
from fakemodel import EXAMPLE, RIGHT, codestar_solve, request_key, start_server
from faultserver import (
    Fault,
    dropped,
    rate_limited,
    server_error,
    unauthorized,
)


def config_file(tmp_path: Path, extra: str = "") -> Path:
    """Short retries so that a persistent failure gives up in about a second."""
    path = tmp_path / "codestar.toml"
    path.write_text(f"[model]\nmax_retries = 2\ntimeout_s = 10\n{extra}")
    return path


def solve(url: str, tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    done = codestar_solve(
        str(EXAMPLE),
        "-n",
        "4",
        "--rounds",
        "1",
        "--model",
        "m",
        "--base-url",
        url,
        "--config",
        str(config_file(tmp_path)),
        *extra,
    )
    return done.returncode, done.stdout, done.stderr


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    return errors[0]


def stored_errors(run_dir: Path) -> list[str]:
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        return [row[0] for row in db.execute("SELECT error FROM llm_calls WHERE error IS NOT NULL")]


def test_transient_faults_are_retried_and_the_run_succeeds(tmp_path: Path) -> None:
    faults = (rate_limited("0.05"), server_error(), dropped(), rate_limited("0"), server_error())
    server = start_server(faults)
    try:
        code, out, err = solve(server.url, tmp_path, "--json")
    finally:
        server.stop()
    assert code == 0, err
    trace = json.loads(out)
    assert trace["program"] == RIGHT.strip()
    assert trace["stopped"] is None
    answered = sum(u["calls"] for u in trace["usage"].values())
    assert server.count == answered + len(faults)  # each fault cost exactly one retry


@pytest.mark.parametrize(
    ("faults", "models", "message"),
    [
        ((server_error(),) * 60, None, "HTTP 500"),
        ((unauthorized(),) * 20, None, "rejected the API key"),
        ((), ("another-model",), "'m'"),
    ],
    ids=["persistent-500", "401", "unknown-model"],
)
def test_a_persistent_failure_is_one_error_line_and_recorded(
    tmp_path: Path, faults: tuple[Fault, ...], models: tuple[str, ...] | None, message: str
) -> None:
    server = start_server(faults, models=models)
    run_dir = tmp_path / "run"
    try:
        code, out, err = solve(server.url, tmp_path, "--run-dir", str(run_dir))
    finally:
        server.stop()
    assert code == 2, err
    assert out == ""
    assert message in one_error_line(err)
    assert stored_errors(run_dir), "the failure is recorded in the run store"


def test_an_unreachable_server_is_one_error_line_and_recorded(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run_dir = tmp_path / "run"
    code, out, err = solve(f"http://127.0.0.1:{port}/v1", tmp_path, "--run-dir", str(run_dir))
    assert code == 2, err
    assert out == ""
    line = one_error_line(err)
    assert f"127.0.0.1:{port}" in line and "is the server running" in line
    assert any("BackendUnreachableError" in e for e in stored_errors(run_dir))


def test_a_call_budget_stops_cleanly_and_a_rerun_continues(tmp_path: Path) -> None:
    server = start_server()
    run_dir = tmp_path / "run"
    args = ("--json", "--run-dir", str(run_dir))
    try:
        code, out, err = solve(server.url, tmp_path, *args, "--max-calls", "3")
        assert code == 3, err
        assert "Traceback" not in err
        (line,) = [line for line in err.splitlines() if line.startswith("stopped:")]
        assert "call budget spent" in line and str(run_dir) in line
        trace = json.loads(out)
        assert trace["stopped"].startswith("call budget spent")
        assert sum(u["calls"] for u in trace["usage"].values()) == server.count == 3
        # What finished is reported; what was never asked is missing, not invented.
        assert sum(bool(c["rounds"]) for c in trace["candidates"]) <= 3
        with sqlite3.connect(run_dir / "run.sqlite") as db:
            events = db.execute("SELECT message FROM events WHERE kind = 'budget'").fetchall()
            stored = {
                request_key(json.loads(m), json.loads(p).get("seed"))
                for m, p in db.execute("SELECT messages, params FROM llm_calls")
            }
        assert events and len(stored) == 3
        first = list(server.requests)

        code, out, err = solve(server.url, tmp_path, *args, "--max-calls", "100")
    finally:
        server.stop()
    assert code == 0, err
    resumed = json.loads(out)
    assert resumed["stopped"] is None and resumed["program"] == RIGHT.strip()
    again = [request_key(b["messages"], b.get("seed")) for b in server.requests[len(first) :]]
    assert not stored & set(again), "no stored answer is asked for again"
    cached = sum(u["cached_calls"] for u in resumed["usage"].values())
    assert cached == 3
    # The run's books cover both processes: every server call once, the store's answers apart.
    assert resumed["run_usage"]["spent"]["calls"] == server.count
    assert resumed["run_usage"]["cached"]["calls"] == 3


def test_prices_give_costs_and_a_money_budget_from_the_config_stops(tmp_path: Path) -> None:
    prices = '[prices."m"]\nprompt = 1000.0\ncompletion = 2000.0\n'
    server = start_server()
    try:
        path = config_file(tmp_path, prices)
        base = (str(EXAMPLE), "-n", "4", "--rounds", "1", "--model", "m", "--base-url")
        priced = codestar_solve(*base, server.url, "--config", str(path), "--json")
        path.write_text(path.read_text() + "[budget]\nmax_cost = 0.001\n")
        capped = codestar_solve(*base, server.url, "--config", str(path), "--json")
    finally:
        server.stop()
    assert priced.returncode == 0, priced.stderr
    usage = json.loads(priced.stdout)["usage"]
    generate = usage["generate"]
    expected = (generate["prompt_tokens"] * 1000 + generate["completion_tokens"] * 2000) / 1e6
    assert generate["cost"] == pytest.approx(expected) and expected > 0
    assert "cost:" in priced.stderr
    assert capped.returncode == 3, capped.stderr
    assert "money budget spent" in capped.stderr
