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

It arbitrates only between work that asks it; it does not pin threads, change priorities
or restart the server. Remote backends do not use it: their generation costs no local CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
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


class CpuArbiter:
    """Lets generation and execution take turns on the CPU (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[Kind, int] = {"generation": 0, "execution": 0}
        self._queue: list[_Waiter] = []
        self._phase: Kind | None = None
        self._last: Kind | None = None  # the latest phase, to count real switches
        self._switches = 0

    def stats(self) -> ArbiterStats:
        with self._lock:
            return ArbiterStats(
                self._active["generation"],
                self._active["execution"],
                len(self._queue),
                self._phase,
                self._switches,
            )

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
            self._phase = None
            return
        kind = self._queue[0].kind
        self._begin(kind)
        self._grant(kind)

    def _begin(self, kind: Kind) -> None:
        if kind != self._last:
            self._switches += 1
        self._phase = self._last = kind

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


_shared: CpuArbiter | None = None
_shared_lock = threading.Lock()


def shared_arbiter() -> CpuArbiter:
    """The process-wide arbiter that the local backend and the engine should share."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = CpuArbiter()
        return _shared
