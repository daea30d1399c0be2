"""Time budgets for tests that run the embedded model, scaled by how fast it runs here.

A user's laptop and a shared CI runner are busy machines: the same run that takes a
minute on free cores takes ten beside another process. Model-backed tests therefore
keep their work small (few samples, ``--max-tokens``) and size their time limit from
the generation rate measured here and now: `time_budget_s` measures it once per test
session (one short completion on the embedded model) and returns a limit with room to
spare, or skips the test, saying why, when even that limit would be unreasonable.
"""

from __future__ import annotations

import asyncio
import functools

import pytest

from codestar.llm.local import LocalBackend
from codestar.llm.types import CompletionRequest, Message, SamplingParams

#: Asks for a long, predictable answer, so the rate is measured over many tokens.
_PROBE = CompletionRequest(
    messages=(Message("user", "Count from 1 to 100, separated by spaces."),),
    params=SamplingParams(temperature=0.0, max_tokens=32),
)

#: A test whose budget would exceed this is skipped instead (pytest's limit is above it).
LONGEST_S = 1500.0


@functools.cache
def embedded_tokens_per_s() -> float:
    """Completion tokens per second of the embedded model on this machine, now."""

    async def probe() -> float:
        backend = LocalBackend("local", share_cpu=False)
        try:
            await backend.start()
            done = await backend.complete(_PROBE)
        finally:
            await backend.aclose()
        return done.usage.completion_tokens / max(done.latency_s, 1e-3)

    return asyncio.run(probe())


def time_budget_s(worst_tokens: int, *, fixed_s: float = 90.0, margin: float = 2.5) -> float:
    """Seconds for a run of at most ``worst_tokens`` generated tokens (prompt processing
    included as its decode-time equivalent), plus ``fixed_s`` for starting processes."""
    rate = embedded_tokens_per_s()
    budget = fixed_s + margin * worst_tokens / rate
    if budget > LONGEST_S:
        pytest.skip(
            f"the embedded model makes {rate:.1f} tokens/s here (another process is using "
            f"the cores): this run could need {budget:.0f} s"
        )
    return budget
