"""Does an eval keep the embedded model busy? Decode throughput during `evaluate` vs the
same server's best batched throughput.

    .venv/bin/python benchmarks/eval_throughput.py [--model local] [--problems 20]
        [--samples 8] [--rounds 2] [--concurrency 4 [8 ...]] [--saturate-s 60] [--json OUT]

Part 1 (ceiling): the llama.cpp server of ``--model`` answers HumanEval sampling prompts
with every slot busy (``parallel`` requests in flight at all times, temperature 0.7,
512 tokens at most) for ``--saturate-s`` seconds: completion tokens per second of wall
time is the best this server does on this machine.

Part 2 (eval): `codestar.evaluation.evaluate` runs S* over the first ``--problems``
HumanEval problems on the same server (a fresh run store: nothing cached), with the
sandbox taking turns with the model on the CPU as in `codestar eval`. Its completion
tokens per second of wall time, over the ceiling, is the ratio the target speaks of
(at least 0.8); problems per hour are reported too.

Both parts run in one process, one after the other, on the same server: read the ratio,
not the absolute figures (other load on the machine shows in both; the load average is
printed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from codestar.evaluation.prepare import grading_rule, prepare_problems
from codestar.evaluation.runner import EvalConfig, evaluate
from codestar.execution.engine import Engine
from codestar.llm.cpu import shared_arbiter
from codestar.llm.local import LocalBackend
from codestar.llm.store import RunStore
from codestar.llm.stored import StoredBackend
from codestar.llm.types import Completion, CompletionRequest, SamplingParams
from codestar.pipeline.config import Models, SolveConfig
from codestar.pipeline.prompts import render
from codestar.problems.benchmarks import load_benchmark


class Counting:
    """A backend wrapper that counts what the server really produced."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.completion_tokens = 0
        self.prompt_tokens = 0
        self.calls = 0

    @property
    def model(self) -> str:
        return str(self.backend.model)

    async def complete(self, request: CompletionRequest) -> Completion:
        completion: Completion = await self.backend.complete(request)
        self.completion_tokens += completion.usage.completion_tokens
        self.prompt_tokens += completion.usage.prompt_tokens
        self.calls += 1
        return completion

    async def aclose(self) -> None:
        return None


async def saturate(backend: LocalBackend, prompts: list[Any], seconds: float) -> dict[str, float]:
    """Keep every slot busy with sampling requests for ``seconds``."""
    counting = Counting(backend)
    stop_at = time.monotonic() + seconds
    started = time.monotonic()

    async def lane(lane_index: int) -> None:
        i = lane_index
        while time.monotonic() < stop_at:
            messages = prompts[i % len(prompts)]
            await counting.complete(
                CompletionRequest(
                    messages=tuple(messages),
                    params=SamplingParams(temperature=0.7, max_tokens=512, seed=i),
                    sample_index=i,
                    stage="generate",
                )
            )
            i += backend.parallel

    await asyncio.gather(*(lane(i) for i in range(backend.parallel)))
    wall = time.monotonic() - started
    return {
        "wall_s": wall,
        "calls": counting.calls,
        "completion_tokens": counting.completion_tokens,
        "prompt_tokens": counting.prompt_tokens,
        "tokens_per_s": counting.completion_tokens / wall,
    }


async def occupancy(parallel: int, stop: asyncio.Event, every_s: float = 0.2) -> dict[str, float]:
    """Sample the CPU arbiter: the share of wall time in each state.

    ``generation-K``: a generation phase with K requests on the server; ``execution``:
    sandbox jobs hold the CPU; ``idle``: neither (no problem had work ready).
    """
    arbiter = shared_arbiter()
    counts: dict[str, int] = {}
    while not stop.is_set():
        stats = arbiter.stats()
        if stats.phase == "generation":
            state = f"generation-{min(stats.generation_active, parallel)}"
        else:
            state = stats.phase or "idle"
        counts[state] = counts.get(state, 0) + 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
    total = sum(counts.values()) or 1
    return {state: round(n / total, 3) for state, n in sorted(counts.items())}


async def run_eval(
    problems: list[Any],
    backend: LocalBackend,
    engine: Engine,
    args: argparse.Namespace,
    concurrency: int,
) -> dict[str, Any]:
    """One `evaluate` of S* on a fresh run store, with its throughput and occupancy."""
    counting = Counting(backend)
    with tempfile.TemporaryDirectory() as run_dir, RunStore(run_dir) as store:
        models = Models(StoredBackend(counting, store))
        config = EvalConfig(
            methods=("sstar",),
            solve=SolveConfig(samples=args.samples, rounds=args.rounds),
            concurrency=concurrency,
        )
        stop = asyncio.Event()
        sampler = asyncio.create_task(occupancy(backend.parallel, stop))
        started = time.monotonic()
        evaluation = await evaluate(
            problems,
            models=models,
            engine=engine,
            config=config,
            run_dir=run_dir,
            rule_for=grading_rule,
        )
        wall = time.monotonic() - started
        stop.set()
        states = await sampler
    summary = evaluation.summary.method("sstar")
    return {
        "problems": len(problems),
        "samples": args.samples,
        "rounds": args.rounds,
        "concurrency": concurrency,
        "wall_s": wall,
        "calls": counting.calls,
        "completion_tokens": counting.completion_tokens,
        "prompt_tokens": counting.prompt_tokens,
        "tokens_per_s": counting.completion_tokens / wall,
        "problems_per_hour": len(problems) / wall * 3600,
        "pass_at_1": summary.pass_at_1.value,
        "occupancy": states,
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    backend = LocalBackend(args.model)
    await backend.start()
    benchmark = load_benchmark("humaneval")
    try:
        with Engine(gate=shared_arbiter().execution) as engine:
            problems = list((await prepare_problems(benchmark.problems, engine)).problems)
            problems = problems[: args.problems]
            prompts = [list(render("generate", p)) for p in problems]
            warm = await saturate(backend, prompts, 10.0)  # load and warm the server
            ceiling = await saturate(backend, prompts, args.saturate_s)
            evals = [
                await run_eval(problems, backend, engine, args, concurrency)
                for concurrency in args.concurrency
            ]
    finally:
        await backend.aclose()
    for entry in evals:
        entry["ratio"] = entry["tokens_per_s"] / ceiling["tokens_per_s"]
    return {
        "model": args.model,
        "parallel": backend.parallel,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "warm_up": warm,
        "ceiling": ceiling,
        "evals": evals,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="local")
    parser.add_argument("--problems", type=int, default=20)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4])
    parser.add_argument("--saturate-s", type=float, default=60.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
