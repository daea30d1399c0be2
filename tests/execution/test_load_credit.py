"""Verdicts do not depend on machine load: a test gets back time it waited for a CPU.

Three busy processes share one CPU; the kernel's scheduler statistics show each waiting
about two thirds of the time. A test clock past its limit for such a process grants that
wait back (bounded by the limit itself); for a process that only sleeps it grants
nothing, so a sleeping program still times out on time. Only the wait since the test
started counts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from codestar.execution.deadlines import LOAD_CREDIT_LIMIT, TestClock


def spawn(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", code],
        preexec_fn=lambda: os.sched_setaffinity(0, {0}),
        stdout=subprocess.PIPE,
    )


@pytest.fixture()
def crowded() -> Iterator[int]:
    """The pid of a busy process that shares CPU 0 with two other busy ones."""
    if not os.path.exists(f"/proc/{os.getpid()}/schedstat"):
        pytest.skip("no scheduler statistics in this kernel")
    processes = [spawn("while True: pass") for _ in range(3)]
    try:
        yield processes[0].pid
    finally:
        for process in processes:
            process.kill()
            process.wait()


def test_a_starved_test_gets_its_wait_back_up_to_its_limit(crowded: int) -> None:
    clock = TestClock(crowded, 0.1)
    time.sleep(0.6)  # about 0.4 s of it waiting for the CPU
    clock.deadline = time.monotonic() - 0.01  # the limit has just run out
    assert clock.remaining() > 0
    assert clock.extension == pytest.approx(LOAD_CREDIT_LIMIT * 0.1)
    clock.deadline = time.monotonic() - 0.01
    assert clock.remaining() == 0.0  # the credit is spent: now it times out
    clock.close()


def test_a_sleeping_test_gets_no_credit() -> None:
    sleeper = spawn("import time; print('ready', flush=True); time.sleep(30)")
    try:
        assert sleeper.stdout is not None and sleeper.stdout.readline() == b"ready\n"
        clock = TestClock(sleeper.pid, 0.1)  # its start-up waited; the test does not
        time.sleep(0.3)
        clock.deadline = time.monotonic() - 0.01
        assert clock.remaining() == 0.0
        clock.close()
    finally:
        sleeper.kill()
        sleeper.wait()
