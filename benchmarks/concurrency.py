"""How well one S* run overlaps its model calls: measured against its critical path.

A fake OpenAI-compatible server on 127.0.0.1 answers every chat completion after a fixed
latency L with a scripted answer chosen from the prompt (generation, debug round,
inputs, distinguishing inputs, judgement), so the whole pipeline, from `OpenAIBackend`
through real HTTP to the real execution engine, runs as it would against a model server.

The scripted problem (print |n|) makes every candidate need both debug rounds, and the
final programs fall into three behaviours, so a full S* run makes
N generations, 2N debug rounds, 1 input synthesis, 3 distinguishing calls and 6 judge
calls. Its critical path is 5 calls long (generate, debug, debug, distinguish, judge;
input synthesis overlaps the candidates): the target is a wall time of at most 1.25 x
5 x L. A fully serial run, like the reference implementation's, takes every call x L.

    .venv/bin/python benchmarks/concurrency.py --latency 1.0 --samples 16 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from codestar.execution.engine import Engine
from codestar.llm.openai_backend import OpenAIBackend
from codestar.pipeline.config import Models, SolveConfig
from codestar.pipeline.solver import solve
from codestar.problems.model import Problem, ProblemKind, TestCase

PROBLEM = Problem(
    id="absolute",
    statement="Read one integer n (-100 <= n <= 100) and print its absolute value.",
    kind=ProblemKind.STDIN,
    public_tests=(TestCase("-3\n", "3\n"),),
)
FIRST_TRY = "n = int(input())\nprint(n + 1)\n"
SECOND_TRY = "n = int(input())\nprint(n * 2)\n"
#: Final programs by sample seed: 10 right (two spellings), 3 ``-n``, 3 constant 3.
FINAL = [
    "n = int(input())\nprint(abs(n))\n",
    "n = int(input())\nprint(n if n > 0 else -n)\n",
    "n = int(input())\nprint(-n)\n",
    "n = int(input())\nprint(abs(n))\n",
    "n = int(input())\nprint(3)\n",
]


def _answer(prompt: str, seed: int) -> str:
    """The scripted model: what to say to a prompt (seed = sample index)."""
    if "Earlier attempts" in prompt:
        attempts = prompt.count("## Attempt")
        code = SECOND_TRY if attempts < 2 else FINAL[seed % len(FINAL)]
        return f"Fixed:\n```python\n{code}```"
    if "Two programs were written" in prompt:
        return "```\n-7\n```\n```\n12\n```"
    if "test inputs" in prompt:
        return "```\n5\n```\n```\n-8\n```\n```\n0\n```"
    if "Which program solves" in prompt:
        program_a = prompt[prompt.index("Program A:") : prompt.index("Program B:")]
        right = "abs(" in program_a or "else -n" in program_a
        return "Answer: A" if right else "Answer: B"
    return f"```python\n{FIRST_TRY}```"


class _Handler(BaseHTTPRequestHandler):
    latency = 1.0
    calls: ClassVar[list[float]] = []
    lock = threading.Lock()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        with self.lock:
            self.calls.append(time.perf_counter())
        time.sleep(self.latency)
        text = _answer(prompt, int(body.get("seed") or 0))
        payload = json.dumps(
            {
                "id": "x",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": len(prompt.split()),
                    "completion_tokens": len(text.split()),
                    "total_tokens": len(prompt.split()) + len(text.split()),
                },
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) makes a burst of connections wait for a SYN
    # retransmit (one second) and would measure the kernel, not the pipeline.
    request_queue_size = 256
    daemon_threads = True


@contextmanager
def fake_server(latency: float) -> Iterator[str]:
    """A scripted OpenAI-compatible server on 127.0.0.1; yields its base URL."""
    _Handler.latency = latency
    _Handler.calls = []
    server = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


async def _measure(base_url: str, samples: int, rounds: int, engine: Engine) -> dict[str, Any]:
    backend = OpenAIBackend(
        "scripted", base_url=base_url, api_key="unused", max_concurrency=4 * samples
    )
    try:
        started = time.perf_counter()
        result = await solve(
            PROBLEM,
            "sstar",
            models=Models(backend),
            engine=engine,
            config=SolveConfig(samples=samples, rounds=rounds),
        )
        wall = time.perf_counter() - started
    finally:
        await backend.aclose()
    calls = result.total_usage.calls
    return {
        "wall_s": wall,
        "calls": calls,
        "usage": {stage: usage.calls for stage, usage in result.usage.items()},
        "clusters": [list(c.members) for c in result.clusters],
        "comparisons": len(result.comparisons),
        "selected": result.program,
        "timings": dict(result.timings),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per model call")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="runs; the median is reported")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    options = parser.parse_args()
    chain = 1 + options.rounds + 2  # generate, debug rounds, distinguish, judge
    runs = []
    with fake_server(options.latency) as base_url, Engine() as engine:
        _ = engine.isolation  # start the workers before timing
        for _ in range(options.repeats):
            runs.append(asyncio.run(_measure(base_url, options.samples, options.rounds, engine)))
    runs.sort(key=lambda r: r["wall_s"])
    median = runs[len(runs) // 2]
    critical = chain * options.latency
    report = {
        "latency_s": options.latency,
        "samples": options.samples,
        "rounds": options.rounds,
        "calls": median["calls"],
        "calls_by_stage": median["usage"],
        "clusters": median["clusters"],
        "comparisons": median["comparisons"],
        "critical_path_calls": chain,
        "critical_path_s": critical,
        "wall_s": [round(r["wall_s"], 3) for r in runs],
        "median_wall_s": round(median["wall_s"], 3),
        "ratio_to_critical_path": round(median["wall_s"] / critical, 3),
        "serial_s": round(median["calls"] * options.latency, 3),
        "speedup_over_serial": round(median["calls"] * options.latency / median["wall_s"], 2),
        "phase_ends_s": median["timings"],
        "selected": median["selected"],
    }
    if options.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key:>24}: {value}")
    return 0 if report["ratio_to_critical_path"] <= 1.25 else 1


if __name__ == "__main__":
    sys.exit(main())
