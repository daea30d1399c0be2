"""The embedded model's speed: through codestar vs the bare server, and beside the sandbox.

    .venv/bin/python benchmarks/local_model.py [--rounds 6] [--max-tokens 64] [--json OUT]

Part 1 (overhead): one llama.cpp server with the 0.5B model; the same chat request at
temperature 0 is sent alternately as a plain HTTP POST (urllib, no codestar) and through
`LocalBackend.complete` (the path S* takes: CPU arbiter, OpenAIBackend, openai client).
Both produce the same tokens, so tokens/s compare directly; the target ratio is >= 0.9.

Part 2 (CPU sharing): a mixed workload like an S* round: a batch of generation requests
(4 at a time) and a batch of CPU-bound programs run by the execution engine (one per
core), started together. Four runs: generation alone, execution alone, both at once with
no policy, and both taking turns through the `CpuArbiter` (``Engine(gate=
arbiter.execution)``). *Efficiency* is (generation alone + execution alone) / the mixed
run's makespan: 1.0 means mixing cost nothing over running one after the other.

Short prompts and outputs keep it to a few minutes on 2 cores. It measures this machine
as it is: other load on it shows in the figures (the load average is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
import urllib.request
from collections.abc import Awaitable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from codestar.execution.engine import Engine
from codestar.execution.types import Limits, Program
from codestar.llm.cpu import CpuArbiter
from codestar.llm.local import LocalBackend
from codestar.llm.types import CompletionRequest, Message, SamplingParams
from codestar.problems.model import TestCase

PROMPT = "Write a Python function that returns the n-th prime number, with a docstring."

#: A CPU-bound program: a few hundred milliseconds of pure Python arithmetic.
BUSY_PROGRAM = "n = int(input())\nprint(sum(i * i % 7 for i in range(n)))\n"
BUSY_INPUT = "2500000"


@dataclass(frozen=True)
class Overhead:
    bare_tokens_per_s: float
    codestar_tokens_per_s: float
    #: codestar's total rate over the bare total rate
    ratio: float
    #: the median over rounds of (codestar's rate / the bare rate) in the same round: it
    #: shrugs off bursts of load from other programs that hit one request of a pair
    median_round_ratio: float
    rounds: int
    tokens_per_request: int


@dataclass(frozen=True)
class Mixed:
    mode: str
    generation_tokens_per_s: float  #: tokens / seconds until the last generation ended
    execution_jobs_per_s: float  #: jobs / seconds until the last job ended
    generation_s: float
    execution_s: float
    makespan_s: float  #: until both were done
    #: (generation alone + execution alone) / makespan: 1.0 means the mixed run took as
    #: long as running the two one after the other; below 1.0, contention wasted time.
    efficiency: float | None = None


def request(max_tokens: int) -> CompletionRequest:
    return CompletionRequest(
        messages=(Message("user", PROMPT),),
        params=SamplingParams(temperature=0.0, max_tokens=max_tokens),
    )


def bare_post(base_url: str, max_tokens: int) -> tuple[int, float]:
    """One chat completion by plain HTTP; (completion tokens, seconds)."""
    body = json.dumps(
        {
            "model": "local",
            "messages": [{"role": "user", "content": PROMPT}],
            "temperature": 0.0,
            "max_tokens": max_tokens,
        }
    ).encode()
    post = urllib.request.Request(
        base_url + "/chat/completions", data=body, headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(post, timeout=600) as response:
        data = json.loads(response.read())
    return int(data["usage"]["completion_tokens"]), time.perf_counter() - started


async def overhead(backend: LocalBackend, rounds: int, max_tokens: int) -> Overhead:
    server = await backend.start()
    base_url = server.base_url
    ask = request(max_tokens)
    await backend.complete(ask)  # warm both paths: the prompt cache and the client
    await asyncio.to_thread(bare_post, base_url, max_tokens)
    bare: list[tuple[int, float]] = []
    ours: list[tuple[int, float]] = []
    for _ in range(rounds):  # alternate, so drifting machine load hits both alike
        bare.append(await asyncio.to_thread(bare_post, base_url, max_tokens))
        started = time.perf_counter()
        answer = await backend.complete(ask)
        ours.append((answer.usage.completion_tokens, time.perf_counter() - started))
    bare_rate = sum(t for t, _ in bare) / sum(s for _, s in bare)
    our_rate = sum(t for t, _ in ours) / sum(s for _, s in ours)
    pairs = [(o[0] / o[1]) / (b[0] / b[1]) for o, b in zip(ours, bare, strict=True)]
    return Overhead(
        round(bare_rate, 2),
        round(our_rate, 2),
        round(our_rate / bare_rate, 3),
        round(statistics.median(pairs), 3),
        rounds,
        int(statistics.median(t for t, _ in ours)),
    )


async def mixed(
    backend: LocalBackend,
    mode: str,
    *,
    requests: int,
    jobs: int,
    max_tokens: int,
    arbiter: CpuArbiter | None = None,
) -> Mixed:
    """``requests`` generations (4 at a time) and ``jobs`` busy programs (one per core).

    Both start together; the result says when each side finished.
    """
    ask = request(max_tokens)
    program = Program(BUSY_PROGRAM)
    tests = [TestCase(BUSY_INPUT, None)]
    cores = os.cpu_count() or 1
    gate = arbiter.execution if arbiter is not None else None
    slots = asyncio.Semaphore(4)
    tokens = 0
    queued = 0

    async def generate(index: int) -> None:
        nonlocal tokens
        async with slots:
            answer = await backend.complete(
                CompletionRequest(messages=ask.messages, params=ask.params, sample_index=index)
            )
            tokens += answer.usage.completion_tokens

    async def execute(engine: Engine) -> None:
        nonlocal queued
        while queued < jobs:
            queued += 1
            await engine.arun(program, tests)

    async def timed(*work: Awaitable[None]) -> float:
        await asyncio.gather(*work)
        return time.perf_counter() - started

    with Engine(workers=cores, limits=Limits(timeout_s=120), gate=gate) as engine:
        engine.run(program, tests)  # start the workers before the clock
        started = time.perf_counter()
        generation_s, execution_s = await asyncio.gather(
            timed(*(generate(i) for i in range(requests))),
            timed(*(execute(engine) for _ in range(cores))),
        )
    return Mixed(
        mode,
        round(tokens / generation_s, 2) if requests else 0.0,
        round(jobs / execution_s, 2) if jobs else 0.0,
        round(generation_s, 2),
        round(execution_s, 2),
        round(max(generation_s, execution_s), 2),
    )


def efficiency(result: Mixed, generation_alone: Mixed, execution_alone: Mixed) -> Mixed:
    sequential = generation_alone.makespan_s + execution_alone.makespan_s
    return replace(result, efficiency=round(sequential / result.makespan_s, 3))


async def main(arguments: argparse.Namespace) -> dict[str, Any]:
    arbiter = CpuArbiter()
    turns = LocalBackend("local", arbiter=arbiter, timeout_s=900)
    free = LocalBackend("local", share_cpu=False, timeout_s=900)  # joins the same server
    try:
        report: dict[str, Any] = {
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "load_average_at_start": os.getloadavg(),
            }
        }
        part1 = await overhead(turns, arguments.rounds, arguments.max_tokens)
        report["overhead"] = asdict(part1)
        _say(
            f"through codestar / bare server: {part1.codestar_tokens_per_s} / "
            f"{part1.bare_tokens_per_s} tokens/s = {part1.ratio} "
            f"(median per round: {part1.median_round_ratio})"
        )
        requests, jobs = arguments.requests, arguments.jobs
        tokens = arguments.max_tokens
        generation_alone = await mixed(
            free, "generation alone", requests=requests, jobs=0, max_tokens=tokens
        )
        execution_alone = await mixed(
            free, "execution alone", requests=0, jobs=jobs, max_tokens=tokens
        )
        results = [generation_alone, execution_alone]
        for mode, backend, gate in (
            ("both, no policy", free, None),
            ("both, taking turns", turns, arbiter),
        ):
            both = await mixed(
                backend, mode, requests=requests, jobs=jobs, max_tokens=tokens, arbiter=gate
            )
            results.append(efficiency(both, generation_alone, execution_alone))
        report["mixed"] = [asdict(result) for result in results]
        for result in results:
            _say(
                f"{result.mode:<20} {result.generation_tokens_per_s:7.2f} tokens/s "
                f"(done at {result.generation_s:6.1f} s) {result.execution_jobs_per_s:6.2f} "
                f"jobs/s (done at {result.execution_s:6.1f} s)"
                + (f"  efficiency {result.efficiency}" if result.efficiency is not None else "")
            )
        report["machine"]["load_average_at_end"] = os.getloadavg()
        return report
    finally:
        await free.aclose()
        await turns.aclose()


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="requests per path in part 1")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--requests", type=int, default=8, help="generations in part 2")
    parser.add_argument("--jobs", type=int, default=64, help="busy programs in part 2")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures = asyncio.run(main(args))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
