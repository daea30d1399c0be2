"""`codestar eval` as a user runs it: a subprocess, a real HTTP model server on 127.0.0.1
that answers the right program for some problems and a wrong one for the others, the
real sandbox, a run directory that is resumed, killed with SIGKILL and re-graded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

RIGHT = "a, b = map(int, input().split())\nprint(a + b)\n"
WRONG = "a, b = map(int, input().split())\nprint(a * b)\n"  # right on "2 2" only
SOLVED = {"q0", "q2", "q3"}


def record(index: int) -> dict[str, Any]:
    def tests(*pairs: tuple[str, str]) -> str:
        return json.dumps([{"input": i, "output": o, "testtype": "stdin"} for i, o in pairs])

    return {
        "question_title": f"sum {index}",
        "question_content": f"Task q{index}: read a and b, print a + b.",
        "platform": "atcoder" if index % 2 else "codeforces",
        "question_id": f"q{index}",
        "contest_id": "c",
        "contest_date": f"2024-01-0{index + 1}T00:00:00",
        "starter_code": "",
        "difficulty": "easy" if index < 3 else "hard",
        "public_test_cases": tests(("2 2\n", "4\n")),
        "private_test_cases": tests(("1 2\n", "3\n"), ("5 7\n", "12\n")),
        "metadata": "{}",
    }


class _Server(ThreadingHTTPServer):
    request_queue_size = 64
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []
    delay_s: ClassVar[float] = 0.0
    #: When set, every request waits until it is released (at most two minutes).
    hold: ClassVar[threading.Event | None] = None

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        type(self).requests.append(prompt)
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.hold is not None:
            self.hold.wait(timeout=120)
        task = next((q for q in ("q0", "q1", "q2", "q3", "q4") if f"Task {q}:" in prompt), "")
        if "test inputs" in prompt or "Two programs were written" in prompt:
            text = "```\n1 2\n```\n```\n3 3\n```"
        elif "Which program" in prompt:
            text = "Answer: A"
        else:
            text = f"```python\n{RIGHT if task in SOLVED else WRONG}```"
        payload = json.dumps(
            {
                "id": "x",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": text},
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture()
def server() -> Iterator[str]:
    _Handler.requests = []
    _Handler.delay_s = 0.0
    _Handler.hold = None
    httpd = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture()
def problems(tmp_path: Path) -> Path:
    path = tmp_path / "sums.jsonl"
    path.write_text("".join(json.dumps(record(i)) + "\n" for i in range(5)))
    return path


ENV = {**os.environ, "OPENAI_API_KEY": "test-key"}


def codestar(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codestar", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
        **kwargs,
    )


def started(*args: str, stderr: int = subprocess.DEVNULL) -> subprocess.Popen[str]:
    """`codestar ARGS` started in the background (its stdout discarded)."""
    return subprocess.Popen(
        [sys.executable, "-m", "codestar", *args],
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
        env=ENV,
    )


def eval_args(problems: Path, url: str, run_dir: Path, *methods: str) -> list[str]:
    chosen = [part for m in methods for part in ("--method", m)]
    return [
        "eval", str(problems), *chosen, "-n", "3", "--rounds", "1", "--model", "m",
        "--base-url", url, "--run-dir", str(run_dir), "--timeout", "5",
    ]  # fmt: skip


def test_eval_reports_exact_pass_at_1_and_its_generations_regrade_the_same(
    server: str, problems: Path, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    done = codestar(*eval_args(problems, server, run_dir, "sstar", "majority-vote"), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    for method in ("sstar", "majority-vote"):
        rate = summary["methods"][method]["pass_at_1"]
        assert (rate["passed"], rate["graded"]) == (3, 5)
        assert 0 < rate["ci95"][0] < 0.6 < rate["ci95"][1] < 1
    assert summary["methods"]["sstar"]["by_difficulty"]["easy"]["passed"] == 2  # q0, q2
    # Majority vote shares the samples and inputs of S*: it made no call of its own.
    assert summary["methods"]["majority-vote"]["new_calls"] == 0
    assert summary["methods"]["majority-vote"]["reused_calls"] > 0
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["problem_ids"] == ["q0", "q1", "q2", "q3", "q4"]
    assert manifest["models"]["generator"] == "m" and manifest["solve"]["samples"] == 3
    rows = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 10
    verdicts = {r["problem_id"]: r["passed"] for r in rows if r["method"] == "sstar"}
    assert {p for p, ok in verdicts.items() if ok} == SOLVED
    graded = codestar(
        "grade", "--problems", str(problems),
        "--generations", str(run_dir / "generations" / "sstar.json"), "--json",
    )  # fmt: skip
    assert graded.returncode == 0, graded.stderr
    results = json.loads(graded.stdout)["results"]
    assert {p: flags[0] for p, flags in results.items()} == verdicts
    assert "pass@1" in done.stderr and "sstar" in done.stderr
    listed = codestar("runs", str(tmp_path), "--json")
    assert listed.returncode == 0, listed.stderr
    (run,) = json.loads(listed.stdout)["runs"]
    assert run["kind"] == "eval" and run["problems"] == 5 and run["models"] == ["m"]
    assert run["pass_at_1"] == {"sstar": 0.6, "majority-vote": 0.6}
    assert run["finished"] is True and run["running_pid"] is None


def test_a_finished_eval_reruns_with_zero_model_calls(
    server: str, problems: Path, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    first = codestar(*eval_args(problems, server, run_dir, "sstar"), "--json")
    assert first.returncode == 0, first.stderr
    asked = len(_Handler.requests)
    second = codestar(*eval_args(problems, server, run_dir, "sstar"), "--json")
    assert second.returncode == 0, second.stderr
    assert len(_Handler.requests) == asked
    assert json.loads(second.stdout)["methods"] == json.loads(first.stdout)["methods"]
    other = codestar(*[a if a != "3" else "4" for a in eval_args(problems, server, run_dir)])
    assert other.returncode == 2 and "other settings" in other.stderr
    errors = [line for line in other.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in other.stderr


def test_an_eval_killed_with_sigkill_resumes_without_repeating_finished_calls(
    server: str, problems: Path, tmp_path: Path
) -> None:
    clean_dir, killed_dir = tmp_path / "clean", tmp_path / "killed"
    assert codestar(*eval_args(problems, server, clean_dir, "sstar")).returncode == 0
    clean_calls = len(_Handler.requests)
    _Handler.requests = []
    _Handler.delay_s = 0.15
    process = started(*eval_args(problems, server, killed_dir, "sstar"))
    deadline = time.monotonic() + 60
    while len(_Handler.requests) < clean_calls // 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    before = len(_Handler.requests)
    assert 0 < before < clean_calls
    _Handler.delay_s = 0.0
    resumed = codestar(*eval_args(problems, server, killed_dir, "sstar"), "--json")
    assert resumed.returncode == 0, resumed.stderr
    # Only the calls that were in flight at the kill are asked again (at most the
    # backend's concurrency); everything that had finished came from the store.
    repeated = len(_Handler.requests) - clean_calls
    assert 0 <= repeated <= 16
    summary = json.loads(resumed.stdout)
    assert summary["methods"]["sstar"]["pass_at_1"]["passed"] == 3


def test_bad_input_is_one_line_and_exit_2(problems: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cases = [
        ["eval", "no-such-benchmark"],
        ["eval", str(problems), "--method", "nope"],
        ["eval", str(problems), "--run-dir", str(blocker / "sub")],
        ["eval", str(problems), "--problems", "q9", "--run-dir", str(tmp_path / "r")],
        ["eval", str(problems), "--start-date", "yesterday"],
    ]
    for args in cases:
        done = codestar(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr, args
        assert done.stderr.strip().count("\n") == 0, (args, done.stderr)


def test_the_selection_switches_reach_the_run_and_its_manifest(
    server: str, problems: Path, tmp_path: Path
) -> None:
    run_dir = tmp_path / "ablation"
    switches = [
        "--selection-rule", "algorithm-1", "--no-mutated-inputs", "--mutations", "2",
        "--no-input-retry", "--no-sanitize", "--prompt-variant", "short",
        "--max-comparisons", "0",
    ]  # fmt: skip
    done = codestar(*eval_args(problems, server, run_dir, "sstar"), *switches, "--json")
    assert done.returncode == 0, done.stderr
    solve = json.loads((run_dir / "manifest.json").read_text())["solve"]
    assert solve["selection_rule"] == "algorithm-1" and solve["prompt_variant"] == "short"
    assert solve["mutated_inputs"] is False and solve["mutations"] == 2
    assert solve["input_retry"] is False and solve["sanitize"] is False
    assert solve["max_comparisons"] == 0
    # The default run in the same directory is other settings, refused in one line.
    default = codestar(*eval_args(problems, server, run_dir, "sstar"))
    assert default.returncode == 2 and "other settings" in default.stderr


def test_an_ablation_seeded_with_a_finished_runs_store_reuses_its_samples(
    server: str, problems: Path, tmp_path: Path
) -> None:
    base, ablation = tmp_path / "base", tmp_path / "ablation"
    first = codestar(*eval_args(problems, server, base, "sstar"))
    assert first.returncode == 0, first.stderr
    asked = len(_Handler.requests)
    ablation.mkdir()
    (ablation / "run.sqlite").write_bytes((base / "run.sqlite").read_bytes())
    second = codestar(
        *eval_args(problems, server, ablation, "sstar"), "--selection-rule", "algorithm-1"
    )
    assert second.returncode == 0, second.stderr
    # Another selection rule over the same pool, inputs and verdicts asks nothing new.
    assert _Handler.requests[asked:] == []
    assert (ablation / "generations" / "sstar.json").is_file()
    manifest = json.loads((ablation / "manifest.json").read_text())
    assert manifest["solve"]["selection_rule"] == "algorithm-1"


def test_a_second_eval_on_a_run_directory_in_use_is_refused_in_one_line(
    server: str, problems: Path, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    release = threading.Event()
    _Handler.hold = release  # the first eval waits on its model until the check is done
    first = started(*eval_args(problems, server, run_dir, "sstar"), stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not _Handler.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _Handler.requests, "the first eval never asked the model"
        manifest = (run_dir / "manifest.json").read_bytes()
        second = codestar(*eval_args(problems, server, run_dir, "sstar", "zero-shot"))
        assert second.returncode == 2, second.stderr
        assert f"in use by another codestar eval (pid {first.pid})" in second.stderr
        assert second.stderr.strip().count("\n") == 0 and "Traceback" not in second.stderr
        assert (run_dir / "manifest.json").read_bytes() == manifest
        release.set()
        _, err = first.communicate(timeout=240)
        assert first.returncode == 0, err
    finally:
        release.set()
        first.kill()
        first.wait(timeout=30)
    rerun = codestar(*eval_args(problems, server, run_dir, "sstar"), "--json")
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["methods"]["sstar"]["pass_at_1"]["passed"] == 3
