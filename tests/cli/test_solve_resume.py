"""Resume through the CLI: `codestar solve --run-dir D` killed with SIGKILL mid-run, then
run again with the same D, asks the server for nothing it had already answered and ends
with the result of an uninterrupted run.

The model is `fakemodel.respond` behind the fault server with a fixed latency: its
answers depend only on the request (messages and seed), so the uninterrupted run in a
fresh directory is a fair reference.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from fakemodel import EXAMPLE, REPO, codestar_solve, request_key, start_server

ARGS = ("-n", "8", "--rounds", "1", "--model", "m", "--json")


def keys_of(requests: list[dict[str, Any]]) -> Counter[str]:
    return Counter(request_key(body["messages"], body.get("seed")) for body in requests)


def stored_answers(run_dir: Path) -> Counter[str]:
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        rows = db.execute("SELECT messages, params FROM llm_calls WHERE error IS NULL")
        return Counter(request_key(json.loads(m), json.loads(p).get("seed")) for m, p in rows)


def comparable(trace: dict[str, Any]) -> dict[str, Any]:
    return {key: trace[key] for key in ("program", "selection", "clusters", "comparisons")}


def test_a_killed_solve_resumes_without_repeating_a_finished_call(tmp_path: Path) -> None:
    server = start_server(latency_s=0.3)
    try:
        fresh = codestar_solve(
            str(EXAMPLE), *ARGS, "--base-url", server.url, "--run-dir", str(tmp_path / "fresh")
        )
        assert fresh.returncode == 0, fresh.stderr
        reference = json.loads(fresh.stdout)
        everything = keys_of(server.requests)
        assert sum(everything.values()) >= 12  # 8 samples, debug rounds, inputs, judging

        run_dir = tmp_path / "run"
        before = server.count
        killed = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "codestar",
                "solve",
                str(EXAMPLE),
                *ARGS,
                "--base-url",
                server.url,
                "--run-dir",
                str(run_dir),
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its sandbox workers die with it
        )
        deadline = time.monotonic() + 60
        # Kill once the first wave (8 samples and the inputs) was answered and stored
        # and later calls are in flight.
        while server.count - before < 11:
            assert killed.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the run never got going"
            time.sleep(0.01)
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
        stored = stored_answers(run_dir)
        assert 0 < sum(stored.values()) < sum(everything.values()), "killed mid-way"

        resumed_from = server.count
        resumed = codestar_solve(
            str(EXAMPLE), *ARGS, "--base-url", server.url, "--run-dir", str(run_dir)
        )
        assert resumed.returncode == 0, resumed.stderr
        again = keys_of(server.requests[resumed_from:])
    finally:
        server.stop()
    assert not set(again) & set(stored), "no answer in the run store was asked for again"
    assert again + stored == everything  # and together they are exactly one whole run
    trace = json.loads(resumed.stdout)
    assert comparable(trace) == comparable(reference)
    cached = sum(u["cached_calls"] for u in trace["usage"].values())
    assert cached == sum(stored.values())
