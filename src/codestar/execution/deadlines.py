"""Waiting on a sandboxed child, always with a deadline: its exit, and its test's clock.

A child may close its status socket and run on, leave a grandchild holding that socket,
or be starved of CPU by a busy machine. `wait_exit` waits for its exit on a pidfd for at
most a given time; `TestClock` is the wall-clock limit of one test, which gives back the
time the test spent waiting for a CPU (the kernel's run-queue delay), so that under load
a verdict is still about the program, not the machine.

It does not kill or grade: the worker does (`codestar.execution.worker`).
"""

from __future__ import annotations

import os
import select
import time
from typing import Any

#: How long a killed process may take to die before the worker stops waiting for it.
KILL_DEADLINE_S = 5.0
#: Past the time limit, a test gets back the time it waited for a CPU since it started,
#: up to this many times its limit more.
LOAD_CREDIT_LIMIT = 1.0

ALIVE = object()  # the process has not exited


def exit_handle(pid: int) -> int | None:
    """A descriptor that becomes readable when ``pid`` exits (None without pidfds)."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


class TestClock:
    """The wall-clock limit of the current test, with credit for the time the test spent
    waiting for a CPU: the kernel's run-queue delay of the child since the test started
    (read with one `pread` per test from a descriptor opened once per child)."""

    __test__ = False  # not a pytest class

    def __init__(self, pid: int, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        try:
            self.stats: int | None = os.open(f"/proc/{pid}/schedstat", os.O_RDONLY)
        except OSError:
            self.stats = None
        self.restart()

    def restart(self) -> None:
        self.start = time.monotonic()
        self.deadline = self.start + self.timeout_s
        self.waited = self._run_queue_delay()  # the baseline of this test
        self.extension = 0.0

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left > 0:
            return left
        waited = self._run_queue_delay() - self.waited
        credit = min(waited - self.extension, LOAD_CREDIT_LIMIT * self.timeout_s - self.extension)
        if credit <= 0.005:
            return 0.0
        self.extension += credit
        self.deadline += credit
        return self.deadline - time.monotonic()

    def _run_queue_delay(self) -> float:
        """Seconds the child has spent runnable but waiting for a CPU (0 where unknown)."""
        if self.stats is None:
            return 0.0
        try:
            return int(os.pread(self.stats, 128, 0).split()[1]) / 1e9
        except (OSError, ValueError, IndexError):
            return 0.0

    def close(self) -> None:
        if self.stats is not None:
            os.close(self.stats)
            self.stats = None


def wait_exit(pid: int, handle: int | None, timeout: float, *, close: bool = False) -> Any:
    """Wait up to ``timeout`` s for ``pid`` to exit: its wait status and CPU seconds,
    None if it was already reaped, `ALIVE` if it still runs."""
    try:
        if handle is not None:
            exited, _, _ = select.select([handle], [], [], timeout)
            if not exited:
                return ALIVE
        deadline = time.monotonic() + timeout
        while True:
            try:
                done, status, usage = os.wait4(pid, os.WNOHANG)
            except ChildProcessError:
                return None
            if done:
                return status, usage.ru_utime + usage.ru_stime
            if time.monotonic() >= deadline:
                return ALIVE
            time.sleep(0.0005)
    finally:
        if close and handle is not None:
            os.close(handle)
