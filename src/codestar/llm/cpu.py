"""CPU sharing between the embedded model and the sandbox: they take turns.

llama.cpp's CPU threads advance in lock-step (every token ends in a barrier that the
slowest thread reaches last), so one busy program on a core that a llama.cpp thread
needs stalls the whole server. Measured on a 2-core machine (docs/local-model.md): a
2-thread server made 4x fewer tokens per second beside two CPU-bound programs, while
the programs lost their CPU too. Running them one after the other wastes nothing.

`CpuArbiter` therefore runs two kinds of work in alternating *phases*: any number of
generation requests together (llama.cpp batches them), or any number of execution jobs
together (each on its own core), never both. A phase ends when its last holder leaves;
while the other kind waits, no newcomer may extend the current phase, and the next phase
goes to the kind that has waited longest. So neither side starves.

- `CpuArbiter.execution()`: a sync context manager the execution engine enters in its
  worker threads around each job (``Engine(gate=arbiter.execution)``).
- `CpuArbiter.generation()`: an async context manager the local backend enters around
  each request.

`CpuMeter` measures what the arbitration cannot control: the share of its threads' CPU
time the server gets during generation phases. Far below 1, processes outside codestar
are using the cores (doctor and solve's summary then say so).

It arbitrates only between work that asks it; it does not pin threads, change priorities
or restart the server. Remote backends do not use it: their generation costs no local CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["generation", "execution"]


@dataclass(eq=False)
class _Waiter:
    kind: Kind
    wake: Callable[[], None]
    granted: bool = field(default=False)


@dataclass(frozen=True, slots=True)
class ArbiterStats:
    """Counters for reports and tests."""

    generation_active: int
    execution_active: int
    waiting: int
    phase: Kind | None
    switches: int
    generation_s: float = 0.0  #: wall seconds spent in generation phases so far


class CpuArbiter:
    """Lets generation and execution take turns on the CPU (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[Kind, int] = {"generation": 0, "execution": 0}
        self._queue: list[_Waiter] = []
        self._phase: Kind | None = None
        self._last: Kind | None = None  # the latest phase, to count real switches
        self._switches = 0
        self._generation_s = 0.0
        self._generation_since: float | None = None

    def stats(self) -> ArbiterStats:
        with self._lock:
            return ArbiterStats(
                self._active["generation"],
                self._active["execution"],
                len(self._queue),
                self._phase,
                self._switches,
                self._generation_seconds(),
            )

    def _generation_seconds(self) -> float:
        """Wall time of generation phases, the running one included; hold the lock."""
        since = self._generation_since
        return self._generation_s + (time.monotonic() - since if since is not None else 0.0)

    def _set_phase(self, kind: Kind | None) -> None:
        """Switch to phase ``kind``, timing generation phases; hold the lock."""
        if (
            self._phase == "generation"
            and kind != "generation"
            and self._generation_since is not None
        ):
            self._generation_s += time.monotonic() - self._generation_since
            self._generation_since = None
        if kind == "generation" and self._phase != "generation":
            self._generation_since = time.monotonic()
        self._phase = kind

    @contextlib.contextmanager
    def execution(self) -> Iterator[None]:
        """Hold the CPU for one execution job (blocks the calling thread while waiting).

        Never enter it on an event loop's thread: generation finishes on that loop, so
        waiting there would wait forever. It raises `RuntimeError` instead.
        """
        event = threading.Event()
        waiter = _Waiter("execution", event.set)
        if not self._enter(waiter):
            if _on_event_loop():
                self._withdraw(waiter)
                raise RuntimeError(
                    "CpuArbiter.execution() would block an event loop; enter it in a worker thread"
                )
            event.wait()
        try:
            yield
        finally:
            self._leave("execution")

    @contextlib.asynccontextmanager
    async def generation(self) -> AsyncIterator[None]:
        """Hold the CPU for one generation request (awaits without blocking the loop)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(_resolve, future)

        waiter = _Waiter("generation", wake)
        if not self._enter(waiter):
            try:
                await future
            except BaseException:
                if not self._withdraw(waiter):  # granted just as we were cancelled
                    self._leave("generation")
                raise
        try:
            yield
        finally:
            self._leave("generation")

    # -- the state machine (every method below holds or takes self._lock)

    def _enter(self, waiter: _Waiter) -> bool:
        """Admit ``waiter`` now (True) or queue it until a phase change grants it."""
        with self._lock:
            kind = waiter.kind
            others_wait = any(queued.kind != kind for queued in self._queue)
            if self._phase is None or (self._phase == kind and not others_wait):
                self._begin(kind)
                self._active[kind] += 1
                return True
            self._queue.append(waiter)
            return False

    def _withdraw(self, waiter: _Waiter) -> bool:
        """Remove a waiter that gave up; False if it had already been granted."""
        with self._lock:
            if waiter.granted:
                return False
            self._queue.remove(waiter)
            if self._phase is not None and self._active[self._phase] == 0:
                self._next_phase()
            else:
                self._admit_same_phase()
            return True

    def _leave(self, kind: Kind) -> None:
        with self._lock:
            self._active[kind] -= 1
            if self._active[kind] == 0:
                self._next_phase()

    def _next_phase(self) -> None:
        """The current phase is empty: grant every waiter of the longest-waiting kind."""
        if not self._queue:
            self._set_phase(None)
            return
        kind = self._queue[0].kind
        self._begin(kind)
        self._grant(kind)

    def _begin(self, kind: Kind) -> None:
        if kind != self._last:
            self._switches += 1
        self._set_phase(kind)
        self._last = kind

    def _admit_same_phase(self) -> None:
        """After a withdrawal, waiters of the running phase may no longer need to wait."""
        phase = self._phase
        if phase is not None and not any(w.kind != phase for w in self._queue):
            self._grant(phase)

    def _grant(self, kind: Kind) -> None:
        granted = [waiter for waiter in self._queue if waiter.kind == kind]
        self._queue = [waiter for waiter in self._queue if waiter.kind != kind]
        self._active[kind] += len(granted)
        for waiter in granted:
            waiter.granted = True
            waiter.wake()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


#: Below this share of its threads' CPU time, another process is taking the cores.
CONTENDED_SHARE = 0.5


def process_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system, all threads) process ``pid`` has used; None where
    the system does not say (not Linux, or the process is gone).

        >>> process_cpu_seconds(os.getpid()) > 0
        True
    """
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # Fields 14 and 15 of proc(5) (utime, stime), counted after the command's ")".
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class CpuShare:
    """How much of ``threads`` cores' time a process got over ``wall_s`` seconds.

    llama.cpp keeps every thread busy while it generates, so a share far below 1 means
    other processes are running on the same cores (and tokens/s suffers as much).

        >>> CpuShare(cpu_s=3.0, wall_s=10.0, threads=2).contended
        True
    """

    cpu_s: float
    wall_s: float
    threads: int

    @property
    def share(self) -> float:
        return self.cpu_s / (self.wall_s * self.threads) if self.wall_s > 0 else 1.0

    @property
    def contended(self) -> bool:
        return self.share < CONTENDED_SHARE

    def describe(self, tokens_per_s: float | None) -> str:
        """One sentence for doctor and solve's summary."""
        rate = f" ({tokens_per_s:.1f} tokens/s)" if tokens_per_s else ""
        return (
            f"the embedded model got {100 * self.share:.0f}% of its {self.threads} threads' "
            f"CPU time while generating{rate}: other processes are using the cores, and "
            "llama.cpp runs several times slower than on free ones"
        )


_shared: CpuArbiter | None = None
_shared_lock = threading.Lock()


def shared_arbiter() -> CpuArbiter:
    """The process-wide arbiter that the local backend and the engine should share."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = CpuArbiter()
        return _shared


class CpuMeter:
    """Measures the `CpuShare` the embedded model's server gets while it generates.

    ``cpu_seconds`` reads the server's CPU time (None while it is not running); the
    wall time is that of ``arbiter``'s generation phases. `sample` takes the baseline
    the first time the server runs (call it whenever convenient: model loading before
    that moment is not counted); `share` compares with now.
    """

    def __init__(
        self, cpu_seconds: Callable[[], float | None], arbiter: CpuArbiter, threads: int
    ) -> None:
        self._cpu_seconds = cpu_seconds
        self._arbiter = arbiter
        self.threads = threads
        self._baseline: tuple[float, float] | None = None

    def sample(self) -> None:
        if self._baseline is None:
            cpu = self._cpu_seconds()
            if cpu is not None:
                self._baseline = (cpu, self._arbiter.stats().generation_s)

    def share(self, *, min_wall_s: float = 1.0) -> CpuShare | None:
        """The share since the baseline; None without one, or over under ``min_wall_s``
        of generation (too short to tell)."""
        cpu = self._cpu_seconds()
        if self._baseline is None or cpu is None:
            return None
        wall = self._arbiter.stats().generation_s - self._baseline[1]
        if wall < min_wall_s:
            return None
        return CpuShare(cpu - self._baseline[0], wall, self.threads)
