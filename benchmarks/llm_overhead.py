"""codestar's own per-call overhead on top of the raw ``openai`` client.

Runs N sequential chat completions against a zero-latency OpenAI-compatible server
(the test suite's fault server in "ok" mode, started in a subprocess so that it does
not share this process's GIL) four ways, interleaved over several rounds:

- ``raw openai``: ``AsyncOpenAI.chat.completions.create``, no retries (parses the body
  into the SDK's pydantic models);
- ``raw openai, unparsed``: the same request through ``with_raw_response`` and
  ``json.loads``, the least work any client can do with the SDK (the baseline);
- ``OpenAIBackend``: codestar's backend (retry wrapper, semaphore, body checks);
- ``StoredBackend miss``: the backend behind the run store (key, lookup, insert);
- ``StoredBackend hit``: the same requests again, answered from the store.

The variants take turns call by call (the order rotating), so that each gets the same
share of the noise other processes make. It prints the median and mean milliseconds
per call, and the median's difference to and ratio of the unparsed raw client.
Target: under 2 ms of overhead per call.

    .venv/bin/python benchmarks/llm_overhead.py --calls 300 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import openai

from codestar.llm.openai_backend import OpenAIBackend
from codestar.llm.retry import RetryPolicy
from codestar.llm.store import RunStore
from codestar.llm.stored import StoredBackend
from codestar.llm.types import CompletionRequest, Message, SamplingParams

FAULT_SERVER = Path(__file__).resolve().parents[1] / "tests" / "llm" / "faultserver.py"
MODEL = "fault-model"
WARM_UP = 20
NAMES = (
    "raw openai",
    "raw openai, unparsed",
    "OpenAIBackend",
    "StoredBackend miss",
    "StoredBackend hit",
)
Timings = dict[str, list[float]]


def request(tag: str, index: int) -> CompletionRequest:
    return CompletionRequest(
        messages=(Message("system", "You write Python."), Message("user", f"{tag} task {index}")),
        params=SamplingParams(temperature=0.0, max_tokens=64),
    )


async def one_round(url: str, calls: int, round_number: int, work_dir: Path) -> Timings:
    """Per-call milliseconds of every variant, the variants taking turns call by call."""
    tag = f"r{round_number}"
    client = openai.AsyncOpenAI(base_url=url, api_key="none", max_retries=0)
    backend = OpenAIBackend(MODEL, base_url=url, retry_policy=RetryPolicy(max_retries=0))
    store = RunStore(work_dir / f"round{round_number}")
    stored = StoredBackend(
        OpenAIBackend(MODEL, base_url=url, retry_policy=RetryPolicy(max_retries=0)), store
    )

    def body(sent: CompletionRequest) -> dict[str, Any]:
        return {
            "model": MODEL,
            "messages": [{"role": m.role, "content": m.content} for m in sent.messages],
            "temperature": sent.params.temperature,
            "max_tokens": sent.params.max_tokens,
        }

    async def raw(index: int) -> object:
        return await client.chat.completions.create(**body(request(f"{tag}-raw", index)))

    async def unparsed(index: int) -> object:
        sent = body(request(f"{tag}-unparsed", index))
        response = await client.chat.completions.with_raw_response.create(**sent)
        return json.loads(response.http_response.text)

    async def direct(index: int) -> object:
        return await backend.complete(request(f"{tag}-backend", index))

    async def via_store(index: int) -> object:
        return await stored.complete(request(tag, index))

    variants: list[tuple[str, Callable[[int], Awaitable[object]]]] = [
        ("raw openai", raw),
        ("raw openai, unparsed", unparsed),
        ("OpenAIBackend", direct),
        ("StoredBackend miss", via_store),
    ]
    timings: Timings = {name: [] for name in NAMES}
    for index in range(-WARM_UP, calls):
        # Taking turns call by call gives every variant the same share of the noise
        # that other processes on the machine cause.
        shift = index % len(variants)
        for name, call in variants[shift:] + variants[:shift]:
            started = time.perf_counter()
            await call(index)
            if index >= 0:
                timings[name].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await via_store(index)  # the answer the miss above just stored
        if index >= 0:
            timings["StoredBackend hit"].append((time.perf_counter() - started) * 1000)
    await client.close()
    await backend.aclose()
    await stored.aclose()
    store.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per variant per round")
    parser.add_argument(
        "--rounds", type=int, default=5, help="rounds (fresh clients and store each)"
    )
    options = parser.parse_args()

    server = subprocess.Popen(
        [sys.executable, str(FAULT_SERVER)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as work:
            rounds = [
                asyncio.run(one_round(url, options.calls, number, Path(work)))
                for number in range(options.rounds)
            ]
    finally:
        server.terminate()
        server.wait()

    medians = {name: statistics.median(t for r in rounds for t in r[name]) for name in NAMES}
    means = {name: statistics.fmean(t for r in rounds for t in r[name]) for name in NAMES}
    raw = medians["raw openai, unparsed"]
    lines = [
        f"{options.calls} sequential calls per variant x {options.rounds} rounds against {url}",
        f"{'variant':<22} {'median ms':>9} {'mean ms':>8} {'median - baseline':>18} {'ratio':>6}",
    ]
    for name in NAMES:
        median = medians[name]
        lines.append(
            f"{name:<22} {median:9.3f} {means[name]:8.3f} {median - raw:+18.3f} {median / raw:6.2f}"
        )
    lines.append("baseline: raw openai, unparsed (the least work a client can do with the SDK)")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
