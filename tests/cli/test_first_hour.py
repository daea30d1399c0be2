"""A new user's first hour (issue 12), through the real CLI: subprocesses, real HTTP on
127.0.0.1 (`tests/llm/faultserver.py` with the scripted model of `fakemodel`), the real
sandbox. No option the user gave is silently ignored; nothing that cannot recover is
retried; the progress on stderr says what is happening, on a terminal and in a log.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakemodel import EXAMPLE, REPO, RIGHT, codestar, codestar_solve, start_server

SMALL = ("-n", "4", "--rounds", "1")
STAGES = ("starting", "sampling", "debugging", "inputs", "running tests", "clustering")
STAGES += ("comparing", "selecting", "done", "asking the model")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without OpenAI settings (a fresh machine)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return {**env, **extra}


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    (line,) = stderr.strip().splitlines()
    assert line.startswith("error: ")
    return line


def last_error_line(stderr: str) -> str:
    """The one ``error:`` line of a run that had begun (progress lines before it)."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert [line for line in lines if line.startswith("error:")] == lines[-1:], stderr
    return lines[-1]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- --base-url and --api-key are used or refused, never ignored


def test_base_url_without_model_uses_the_servers_only_model() -> None:
    server = start_server()
    try:
        done = codestar_solve(str(EXAMPLE), *SMALL, "--base-url", server.url, "--json")
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    trace = json.loads(done.stdout)
    assert trace["models"]["generator"] == "fault-model"
    assert trace["program"] == RIGHT.strip()
    assert {body["model"] for body in server.requests} == {"fault-model"}
    assert f"model fault-model: the one model {server.url} serves" in done.stderr


@pytest.mark.parametrize(
    ("models", "lists", "words"),
    [
        (("coder-a", "coder-b"), True, ("serves 2 models (coder-a, coder-b)", "--model coder-a")),
        (None, False, ("HTTP 404", "pass --model")),
    ],
    ids=["several-models", "no-listing"],
)
def test_base_url_without_model_is_refused_when_the_server_does_not_say_which(
    models: tuple[str, ...] | None, lists: bool, words: tuple[str, ...]
) -> None:
    server = start_server(models=models, lists_models=lists)
    try:
        done = codestar_solve(str(EXAMPLE), *SMALL, "--base-url", server.url)
    finally:
        server.stop()
    assert done.returncode == 2
    line = one_error_line(done.stderr)
    assert all(word in line for word in words), line
    assert server.count == 0  # no model call was made


@pytest.mark.parametrize("model", [None, "local", "local:1.5b"])
def test_a_base_url_for_the_embedded_model_is_refused(model: str | None) -> None:
    args = ["--model", model] if model else []
    if model is None:  # with no --model the server is asked; make it serve two
        server = start_server(models=("a", "b"))
        url = server.url
    else:
        server, url = None, f"http://127.0.0.1:{closed_port()}/v1"
    try:
        done = codestar_solve(str(EXAMPLE), *SMALL, *args, "--base-url", url)
    finally:
        if server is not None:
            server.stop()
    assert done.returncode == 2
    assert "--model" in one_error_line(done.stderr)


@pytest.mark.parametrize("model", [None, "local"])
def test_an_api_key_with_the_embedded_model_is_refused(model: str | None) -> None:
    args = ["--model", model] if model else []
    done = codestar_solve(str(EXAMPLE), *SMALL, *args, "--api-key", "sk-unused")
    assert done.returncode == 2
    line = one_error_line(done.stderr)
    assert "--api-key" in line and "embedded model" in line


def test_an_unknown_model_without_base_url_suggests_base_url_and_local() -> None:
    done = subprocess_solve_clean("--model", "gpt-9")
    assert done.returncode == 2
    line = one_error_line(done.stderr)
    assert "no API key for https://api.openai.com/v1" in line
    assert "--base-url" in line and "--model local" in line and "OPENAI_API_KEY" in line


def subprocess_solve_clean(*args: str) -> subprocess.CompletedProcess[str]:
    return codestar("solve", str(EXAMPLE), *SMALL, *args, env=clean_env())


def test_minus_m_says_what_to_use_instead() -> None:
    done = codestar("solve", str(EXAMPLE), "-m", "sstar")
    assert done.returncode == 2
    line = one_error_line(done.stderr)
    assert "no such option '-m'" in line and "--method" in line and "--model" in line


def test_a_program_that_cannot_be_read_is_one_error_line() -> None:
    done = codestar("check", str(EXAMPLE), "/proc/self/mem")  # reading it fails (EIO)
    assert done.returncode == 2
    assert one_error_line(done.stderr) == "error: cannot read /proc/self/mem: Input/output error"


# -- what cannot recover is not retried


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_refused_local_port_fails_at_once(host: str, tmp_path: Path) -> None:
    url = f"http://{host}:{closed_port()}/v1"
    started = time.monotonic()
    # No --config: the default retry policy (6 retries, about 16-30 s of backoff).
    done = codestar_solve(str(EXAMPLE), *SMALL, "--model", "m", "--base-url", url)
    elapsed = time.monotonic() - started
    assert done.returncode == 2
    line = last_error_line(done.stderr)
    assert "connection refused" in line and "is the server running" in line
    assert elapsed < 12, f"took {elapsed:.1f} s: the refusal was retried"


def test_an_unwritable_run_dir_is_refused_before_any_model_call(tmp_path: Path) -> None:
    server = start_server()
    regular = tmp_path / "a-file"
    regular.write_text("")
    try:
        for run_dir in (regular / "run", Path("/proc/codestar-run")):
            done = codestar_solve(
                str(EXAMPLE), *SMALL, "--model", "m", "--base-url", server.url,
                "--run-dir", str(run_dir),
            )  # fmt: skip
            assert done.returncode == 2
            line = one_error_line(done.stderr)
            assert f"cannot use {run_dir} as a run directory" in line and "--run-dir" in line
    finally:
        server.stop()
    assert server.count == 0


# -- listing a server's models: models, doctor, the 404 hint


def test_models_lists_what_a_server_serves() -> None:
    server = start_server(models=("coder-a", "coder-b"))
    try:
        listed = codestar("models", "--base-url", server.url, "--json")
        table = codestar("models", "--base-url", server.url)
    finally:
        server.stop()
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["served"] == {
        "base_url": server.url,
        "models": ["coder-a", "coder-b"],
    }
    assert table.returncode == 0
    assert f"Served at {server.url}" in table.stdout
    assert re.search(r"^\s+coder-a$", table.stdout, re.M) and "coder-b" in table.stdout
    assert server.model_listings == 2


def test_models_on_an_unreachable_server_is_one_error_line() -> None:
    done = codestar("models", "--base-url", f"http://127.0.0.1:{closed_port()}/v1")
    assert done.returncode == 2
    assert "is the server running" in one_error_line(done.stderr)


def test_doctor_checks_the_model_of_a_config_file(tmp_path: Path) -> None:
    server = start_server(models=("tiny-coder",))
    config = tmp_path / "codestar.toml"
    config.write_text(f'[model]\nname = "tiny-coder"\nbase_url = "{server.url}"\n')
    try:
        configured = codestar("doctor", "--config", str(config), "--json", env=clean_env())
        alone = codestar("doctor", "--base-url", server.url, "--json", env=clean_env())
    finally:
        server.stop()
    for done in (configured, alone):
        assert done.returncode == 0, done.stdout + done.stderr
        report = json.loads(done.stdout)
        assert report["ok"] and report["model"] == "tiny-coder"
        names = [check["name"] for check in report["checks"]]
        assert names[-4:] == ["server", "listed", "completion", "rate"]
    assert server.count == 4  # a tiny completion and the rate, twice


def test_a_missing_model_points_to_models_and_to_the_provider_prefix() -> None:
    server = start_server(models=("coder",))
    try:
        plain = codestar_solve(str(EXAMPLE), *SMALL, "--model", "codr", "--base-url", server.url)
        prefixed = codestar_solve(
            str(EXAMPLE), *SMALL, "--model", "openai/coder", "--base-url", server.url
        )
    finally:
        server.stop()
    for done in (plain, prefixed):
        assert done.returncode == 2
        line = last_error_line(done.stderr)
        assert f"`codestar models --base-url {server.url}` lists the models it serves" in line
    prefixed_line = last_error_line(prefixed.stderr)
    assert "'openai/' is a LiteLLM provider prefix" in prefixed_line
    assert "try --model coder" in prefixed_line


# -- progress


def progress_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "tok/s" in line]


def test_progress_in_a_log_is_one_unwrapped_line_per_event(tmp_path: Path) -> None:
    model = "a-model-with-a-long-name-" + "x" * 80  # every line is longer than 80 columns
    server = start_server(latency_s=0.05)
    try:
        done = codestar_solve(str(EXAMPLE), *SMALL, "--model", model, "--base-url", server.url)
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    lines = progress_lines(done.stderr)
    # One line per pipeline event at least: 4 samples, 1+ debug rounds, inputs, clusters...
    assert len(lines) >= 8
    for line in lines:
        stage, elapsed, *_ = line.split(" · ")
        assert any(stage.startswith(name) for name in STAGES), line
        assert re.fullmatch(r"\d+\.\d s", elapsed), line
        assert re.search(r"[\d,]+ tokens · (\d+\.\d|-) tok/s", line), line
    seen = {line.split(" · ")[0] for line in lines}  # e.g. "inputs + sampling"
    for stage in ("sampling", "debugging", "comparing", "done"):
        assert any(stage in shown.split(" + ") for shown in seen), seen
    tokens = [int(re.search(r"([\d,]+) tokens", line)[1].replace(",", "")) for line in lines]
    assert tokens == sorted(tokens) and tokens[-1] > 0
    header = next(line for line in done.stderr.splitlines() if model in line)
    assert header.endswith(f"model {model}")  # not cut at 80 columns
    assert re.search(r"^model: \d+\.\d tokens/s with calls in flight$", done.stderr, re.M)


def test_progress_on_a_terminal_is_a_live_line(tmp_path: Path) -> None:
    server = start_server(latency_s=0.6)  # a call outlasts two redraws (4 a second)
    primary, secondary = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "codestar", "solve", str(EXAMPLE), *SMALL,
             "--model", "m", "--base-url", server.url],
            stdout=subprocess.PIPE, stderr=secondary, cwd=REPO,
            env={**os.environ, "COLUMNS": "200", "TERM": "xterm"},
        )  # fmt: skip
        os.close(secondary)
        seen = b""
        while True:
            ready, _, _ = select.select([primary], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            seen += chunk
        assert process.wait(timeout=60) == 0
        assert process.stdout is not None and RIGHT.strip() in process.stdout.read().decode()
    finally:
        os.close(primary)
        server.stop()
    text = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", seen).decode(errors="replace")
    assert "\x1b[" in seen.decode(errors="replace")  # drawn in place, with escape codes
    for stage in ("sampling", "tok/s", "tokens"):
        assert stage in text, text[-2000:]
    assert re.search(r"sampling · \d+\.\d s · sampled", text)


@pytest.mark.slow
@pytest.mark.model
@pytest.mark.timeout(1800)
@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_solve_says_when_other_processes_take_the_models_cores() -> None:
    """`codestar solve` (and its llama.cpp server) pinned to one core beside three
    programs spinning on it: the summary warns that the cores are taken."""
    core = min(os.sched_getaffinity(0))

    def pinned() -> None:
        os.sched_setaffinity(0, {core})

    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=pinned)
        for _ in range(3)
    ]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "codestar", "solve", str(EXAMPLE), "--method",
             "zero-shot", "--max-tokens", "24"],
            capture_output=True, text=True, timeout=1700, cwd=REPO, preexec_fn=pinned,
        )  # fmt: skip
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    assert done.returncode in (0, 1), done.stderr  # 24 tokens may not make a program
    warning = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert any("other processes are using the cores" in line for line in warning), done.stderr
    assert re.search(r"of its 1 threads' CPU time", done.stderr)
