"""`codestar solve` as a user runs it: a subprocess, a real HTTP model server on
127.0.0.1 (scripted answers), the real sandbox; one run on the embedded model."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from codestar.problems.loading import load_problems

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "llm"))
from modelrate import LONGEST_S, time_budget_s

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"

RIGHT = "print(' '.join(reversed(input().split())))\n"
WRONG = "print(input())\n"
#: Passes both examples (at most three words) but not longer lines.
SNEAKY = "w = input().split()\nprint(' '.join(w[::-1] if len(w) < 4 else w))\n"


class _Server(ThreadingHTTPServer):
    request_queue_size = 64
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    prompts: ClassVar[list[str]] = []
    models: ClassVar[list[tuple[str, str]]] = []

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        type(self).prompts.append(prompt)
        type(self).models.append((body["model"], prompt))
        seed = int(body.get("seed") or 0)
        if "Earlier attempts" in prompt:
            text = f"```python\n{RIGHT}```"
        elif "test inputs" in prompt:
            text = "```\na b c d\n```\n```\nsolo\n```"
        elif "Two programs were written" in prompt:
            text = "```\nx y\n```"
        elif "Which program" in prompt:
            program_a = prompt[prompt.index("Program A:") : prompt.index("Program B:")]
            text = "Answer: A" if "reversed" in program_a else "Answer: B"
        else:
            text = f"```python\n{[WRONG, RIGHT, WRONG, SNEAKY][seed % 4]}```"
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
    _Handler.prompts = []
    _Handler.models = []
    httpd = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def codestar(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codestar", "solve", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


def test_help_explains_every_option_with_an_example() -> None:
    shown = codestar("--help")
    assert shown.returncode == 0
    for option in (
        "--method",
        "-n",
        "--rounds",
        "--model",
        "--base-url",
        "--api-key",
        "--run-dir",
        "--json",
        "--out",
        "--kind",
        "--seed",
        "--timeout",
    ):
        assert option in shown.stdout
    assert "e.g." in shown.stdout and "codestar solve examples/" in shown.stdout
    # -m is "model" in the tools people know (llm -m): codestar gives it no meaning.
    assert not re.search(r"^\s+-m[ ,]", shown.stdout, re.M)
    assert "--method [" in shown.stdout


def test_solve_prints_the_program_and_a_summary(server: str, tmp_path: Path) -> None:
    out = tmp_path / "solution.py"
    done = codestar(
        str(EXAMPLES / "reverse-words.md"),
        "-n",
        "4",
        "--rounds",
        "1",
        "--model",
        "scripted",
        "--base-url",
        server,
        "--api-key",
        "k",
        "--out",
        str(out),
        "--report",
        str(tmp_path / "solve.html"),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == RIGHT
    assert out.read_text() == RIGHT
    page = (tmp_path / "solve.html").read_text()
    assert page.startswith("<!DOCTYPE html") or page.lower().startswith("<!doctype html")
    assert "reverse-words" in page and "<script src=" not in page
    assert "4 candidates" in done.stderr and "decision" in done.stderr
    assert "tokens:" in done.stderr


def test_json_trace_and_resume_from_the_run_dir(server: str, tmp_path: Path) -> None:
    args = (
        str(EXAMPLES / "reverse-words.md"),
        "-n",
        "4",
        "--rounds",
        "1",
        "--model",
        "scripted",
        "--base-url",
        server,
        "--api-key",
        "k",
        "--json",
        "--run-dir",
        str(tmp_path / "run"),
    )
    first = codestar(*args)
    assert first.returncode == 0, first.stderr
    trace = json.loads(first.stdout)
    for key in (
        "program",
        "method",
        "candidates",
        "inputs",
        "clusters",
        "comparisons",
        "selection",
        "usage",
    ):
        assert key in trace
    assert trace["method"] == "sstar" and trace["program"] == RIGHT.strip()
    assert all(c["rounds"] for c in trace["candidates"])
    sources = zip(trace["inputs"], trace["input_sources"], strict=True)
    model = [text for text, source in sources if source == "model"]
    assert model == ["a b c d\n", "solo\n"]  # the rest are mutants of the public input
    assert [c["members"] for c in trace["clusters"]] == [[0, 1, 2], [3]]
    (comparison,) = trace["comparisons"]
    assert comparison["answers"] == ["A", "B"] and comparison["winner"] == 0
    calls = len(_Handler.prompts)
    assert calls == sum(u["calls"] for u in trace["usage"].values())
    again = codestar(*args)
    assert again.returncode == 0, again.stderr
    assert len(_Handler.prompts) == calls  # every answer came from the run store
    assert json.loads(again.stdout)["program"] == trace["program"]


def test_bad_options_are_one_line_errors(server: str) -> None:
    bad = codestar(
        str(EXAMPLES / "sum-of-two.json"), "-n", "0", "--model", "scripted", "--base-url", server
    )
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith("error:")
    assert "samples must be at least 1" in bad.stderr
    unknown = codestar(str(EXAMPLES / "sum-of-two.json"), "--method", "best")
    assert unknown.returncode == 2 and "sstar" in unknown.stderr
    forced = codestar(str(EXAMPLES / "sum-of-two.json"), "--kind", "functional")
    assert forced.returncode == 2 and "cannot be solved as functional" in forced.stderr


@pytest.mark.model
@pytest.mark.timeout(LONGEST_S + 300)
def test_the_embedded_model_solves_an_example() -> None:
    # Worst case: 2 samples and 2 repairs, inputs and one comparison (distinguishing
    # input, judge) of 160 tokens each, plus their prompts' processing.
    budget = time_budget_s(2000)
    done = codestar(
        str(EXAMPLES / "sum-of-two.json"),
        "-n",
        "2",
        "--rounds",
        "1",
        "--max-tokens",
        "160",
        "--inputs",
        "2",
        "--json",
        timeout=budget,
    )
    assert done.returncode == 0, done.stderr
    trace = json.loads(done.stdout)
    assert trace["models"]["generator"].startswith("local")
    assert len(trace["candidates"]) == 2
    assert trace["usage"]["generate"]["calls"] == 2
    assert trace["program"] and "print" in trace["program"]
    # The progress said what was happening, the model's start included, in one line each.
    stages = [line.split(" · ")[0] for line in done.stderr.splitlines() if "tok/s" in line]
    assert stages[0] in ("starting", "starting the model") and "sampling" in stages
    assert "starting the model" in stages
    assert re.search(r"^model: \d+\.\d tokens/s with calls in flight$", done.stderr, re.M)


def test_each_role_can_have_its_own_model(server: str) -> None:
    done = codestar(
        str(EXAMPLES / "reverse-words.md"),
        "-n",
        "4",
        "--rounds",
        "0",
        "--model",
        "coder",
        "--judge-model",
        "judge-model",
        "--input-model",
        "tester",
        "--base-url",
        server,
        "--api-key",
        "k",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    trace = json.loads(done.stdout)
    assert trace["models"] == {
        "generator": "coder",
        "debugger": "coder",
        "input_writer": "tester",
        "judge": "judge-model",
    }
    used = {model for model, prompt in _Handler.models if "Which program" in prompt}
    assert used == {"judge-model"} and len(trace["comparisons"]) == 1
    writers = {model for model, prompt in _Handler.models if "test inputs" in prompt}
    assert writers == {"tester"}


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir()))
def test_every_example_loads_with_public_tests(example: str) -> None:
    loaded = load_problems(EXAMPLES / example, strict=True)
    (problem,) = loaded.problems
    assert len(problem.public_tests) >= 2
    assert all(test.expected for test in problem.public_tests)
