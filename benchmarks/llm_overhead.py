"""codestar's own per-call overhead on top of the raw ``openai`` client.

Runs N sequential chat completions against a zero-latency OpenAI-compatible server
(the test suite's fault server in "ok" mode, started in a subprocess so that it does
not share this process's GIL) four ways, interleaved over several rounds:

- ``raw openai``: ``AsyncOpenAI.chat.completions.create``, no retries;
- ``OpenAIBackend``: codestar's backend (retry wrapper, semaphore, body checks);
- ``StoredBackend miss``: the backend behind the run store (key, lookup, insert);
- ``StoredBackend hit``: the same requests again, answered from the store.

It prints ms/call (median over rounds), the difference to the raw client and the
ratio. Target: under 2 ms of overhead per call.

    .venv/bin/python benchmarks/llm_overhead.py --calls 300 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import openai

from codestar.llm.openai_backend import OpenAIBackend
from codestar.llm.retry import RetryPolicy
from codestar.llm.store import RunStore
from codestar.llm.stored import StoredBackend
from codestar.llm.types import CompletionRequest, Message, SamplingParams

FAULT_SERVER = Path(__file__).resolve().parents[1] / "tests" / "llm" / "faultserver.py"
MODEL = "fault-model"


def request(tag: str, index: int) -> CompletionRequest:
    return CompletionRequest(
        messages=(Message("system", "You write Python."), Message("user", f"{tag} task {index}")),
        params=SamplingParams(temperature=0.0, max_tokens=64),
    )


async def timed(calls: int, call: Callable[[int], Awaitable[object]]) -> float:
    """Milliseconds per call of ``calls`` sequential awaits (after 20 warm-up calls)."""
    for index in range(20):
        await call(-1 - index)
    started = time.perf_counter()
    for index in range(calls):
        await call(index)
    return (time.perf_counter() - started) * 1000 / calls


async def one_round(url: str, calls: int, round_number: int, work_dir: Path) -> dict[str, float]:
    tag = f"r{round_number}"
    client = openai.AsyncOpenAI(base_url=url, api_key="none", max_retries=0)
    backend = OpenAIBackend(MODEL, base_url=url, retry_policy=RetryPolicy(max_retries=0))
    store = RunStore(work_dir / f"round{round_number}")
    stored = StoredBackend(
        OpenAIBackend(MODEL, base_url=url, retry_policy=RetryPolicy(max_retries=0)), store
    )

    async def raw(index: int) -> object:
        sent = request(f"{tag}-raw", index)
        return await client.chat.completions.create(
            model=MODEL,
            messages=[{"role": m.role, "content": m.content} for m in sent.messages],  # type: ignore[misc]
            temperature=sent.params.temperature,
            max_tokens=sent.params.max_tokens,
        )

    results = {
        "raw openai": await timed(calls, raw),
        "OpenAIBackend": await timed(calls, lambda i: backend.complete(request(f"{tag}-b", i))),
        "StoredBackend miss": await timed(calls, lambda i: stored.complete(request(tag, i))),
        "StoredBackend hit": await timed(calls, lambda i: stored.complete(request(tag, i))),
    }
    await client.close()
    await backend.aclose()
    await stored.aclose()
    store.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per variant per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (median is reported)")
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

    medians = {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}
    raw = medians["raw openai"]
    lines = [
        f"{options.calls} sequential calls x {options.rounds} rounds against {url} "
        "(median of rounds)",
        f"{'variant':<20} {'ms/call':>8} {'vs raw (ms)':>12} {'ratio':>6}",
    ]
    for name, value in medians.items():
        lines.append(f"{name:<20} {value:8.3f} {value - raw:+12.3f} {value / raw:6.2f}")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
