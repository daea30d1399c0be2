"""The CPU arbiter: generation and execution take turns, neither starves, nothing leaks.

Real threads and a real event loop; the "work" is sleeping, so these tests measure the
arbiter's ordering, not the machine. The CPU meter is measured on real spinning
processes pinned to one core.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time

import pytest

from codestar.llm.cpu import (
    CONTENDED_SHARE,
    CpuArbiter,
    CpuMeter,
    process_cpu_seconds,
    shared_arbiter,
)

Interval = tuple[str, float, float]


def overlaps(intervals: list[Interval], a: str, b: str) -> bool:
    return any(
        s1 < e2 and s2 < e1
        for k1, s1, e1 in intervals
        for k2, s2, e2 in intervals
        if k1 == a and k2 == b
    )


def run_mixed(
    arbiter: CpuArbiter, generations: int, executions: int, seconds: float
) -> list[Interval]:
    """Run generation tasks on a loop and execution jobs on threads, all at once."""
    log: list[Interval] = []
    lock = threading.Lock()

    def execute() -> None:
        with arbiter.execution():
            start = time.monotonic()
            time.sleep(seconds)
            with lock:
                log.append(("execution", start, time.monotonic()))

    async def generate() -> None:
        async with arbiter.generation():
            start = time.monotonic()
            await asyncio.sleep(seconds)
            with lock:
                log.append(("generation", start, time.monotonic()))

    async def main() -> None:
        threads = [threading.Thread(target=execute) for _ in range(executions)]
        for thread in threads:
            thread.start()
        await asyncio.gather(*(generate() for _ in range(generations)))
        await asyncio.to_thread(lambda: [thread.join() for thread in threads])

    asyncio.run(main())
    return log


def test_generation_and_execution_never_overlap_but_each_runs_in_parallel() -> None:
    arbiter = CpuArbiter()
    log = run_mixed(arbiter, generations=6, executions=6, seconds=0.05)
    assert len(log) == 12
    assert not overlaps(log, "generation", "execution")
    assert overlaps(log, "generation", "generation")
    assert overlaps(log, "execution", "execution")
    stats = arbiter.stats()
    assert (stats.generation_active, stats.execution_active, stats.waiting) == (0, 0, 0)
    assert stats.phase is None
    assert stats.switches >= 2


def test_a_waiting_execution_is_not_starved_by_a_stream_of_generations() -> None:
    arbiter = CpuArbiter()
    entered: list[float] = []

    def execute() -> None:
        with arbiter.execution():
            entered.append(time.monotonic())

    async def stream() -> float:
        """Keep generations overlapping for about a second; the execution must get in."""

        async def one() -> None:
            async with arbiter.generation():
                await asyncio.sleep(0.1)

        tasks = [asyncio.create_task(one())]
        await asyncio.sleep(0.02)
        start = time.monotonic()
        thread = threading.Thread(target=execute)
        thread.start()
        for _ in range(20):
            await asyncio.sleep(0.05)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
        await asyncio.to_thread(thread.join)
        return start

    start = asyncio.run(stream())
    assert entered and entered[0] - start < 0.5


def test_a_cancelled_generation_waiter_gives_its_place_back() -> None:
    arbiter = CpuArbiter()
    holding = threading.Event()
    release = threading.Event()

    def execute() -> None:
        with arbiter.execution():
            holding.set()
            release.wait(5)

    async def main() -> None:
        thread = threading.Thread(target=execute)
        thread.start()
        await asyncio.to_thread(holding.wait, 5)

        async def generate() -> None:
            async with arbiter.generation():
                pass

        waiting = asyncio.create_task(generate())
        await asyncio.sleep(0.05)
        assert arbiter.stats().waiting == 1
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert arbiter.stats().waiting == 0
        release.set()
        await asyncio.to_thread(thread.join)
        async with arbiter.generation():  # the CPU is free again
            assert arbiter.stats().generation_active == 1

    asyncio.run(main())
    assert arbiter.stats().phase is None


def test_execution_refuses_to_block_an_event_loop() -> None:
    arbiter = CpuArbiter()

    async def main() -> None:
        async with arbiter.generation():
            with pytest.raises(RuntimeError, match="event loop"), arbiter.execution():
                pass
        assert arbiter.stats().waiting == 0
        with arbiter.execution():  # free now: entering does not block, so it is allowed
            assert arbiter.stats().execution_active == 1

    asyncio.run(main())


def test_the_shared_arbiter_is_one_per_process() -> None:
    assert shared_arbiter() is shared_arbiter()


def test_generation_phases_are_timed() -> None:
    arbiter = CpuArbiter()

    async def generate(seconds: float) -> None:
        async with arbiter.generation():
            await asyncio.sleep(seconds)

    async def both() -> None:
        await asyncio.gather(generate(0.3), generate(0.2))  # one phase of about 0.3 s

    asyncio.run(both())
    timed = arbiter.stats().generation_s
    assert 0.3 <= timed < 1.5
    assert arbiter.stats().phase is None
    time.sleep(0.2)  # no phase runs: the clock stands still
    assert arbiter.stats().generation_s == timed


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_the_meter_sees_a_process_that_shares_its_core() -> None:
    """A spinning "server" pinned to one core beside three spinning programs on the same
    core gets at most about a quarter of it, whatever else the machine does."""

    def spinner() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-c", "while True: pass"],
            preexec_fn=lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}),
        )

    server, *others = [spinner() for _ in range(4)]
    try:
        arbiter = CpuArbiter()
        meter = CpuMeter(lambda: process_cpu_seconds(server.pid), arbiter, threads=1)

        async def generate() -> None:
            async with arbiter.generation():
                meter.sample()
                await asyncio.sleep(2.0)

        asyncio.run(generate())
        share = meter.share()
    finally:
        for process in (server, *others):
            process.kill()
            process.wait()
    assert share is not None and 1.8 <= share.wall_s < 4
    assert share.share < CONTENDED_SHARE and share.contended
    assert "other processes are using the cores" in share.describe(2.5)
    assert "(2.5 tokens/s)" in share.describe(2.5)


def test_the_meter_needs_a_baseline_and_enough_time() -> None:
    arbiter = CpuArbiter()
    cpu = iter([None, 5.0, 5.0, 6.0])
    meter = CpuMeter(lambda: next(cpu), arbiter, threads=2)
    meter.sample()  # the server is not running yet: no baseline
    assert meter.share() is None
    meter.sample()  # baseline 5.0 CPU seconds, no generation yet
    assert meter.share() is None  # under a second of generation: too short to tell
    assert process_cpu_seconds(2**22 + 12345) is None  # no such process
