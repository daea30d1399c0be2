"""Live counts of model calls for progress views: what is in flight, tokens, tokens/s.

`Activity` is told when calls start and finish; `WatchedBackend` tells it, around any
backend. A snapshot says which stages have calls in flight (``generate``, ``debug``...),
the tokens of the finished calls, and the generation rate: completion tokens per second
of wall time during which at least one call was in flight. Answers the run store served
are counted apart: they cost no time and would make the rate a fiction.

It only counts; it renders nothing and decides nothing (the CLI's progress line does).

    >>> activity = Activity(clock=iter([0.0, 2.0]).__next__)
    >>> activity.started("generate")
    >>> activity.finished("generate", Completion(text="x", usage=Usage(10, 40, 1)))
    >>> activity.snapshot().tokens_per_s
    20.0
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from codestar.llm.backend import Backend
from codestar.llm.types import Completion, CompletionRequest, Usage


@dataclass(frozen=True, slots=True)
class ActivitySnapshot:
    """Calls in flight by stage (in the order they began), finished usage, busy time."""

    in_flight: tuple[str, ...]
    usage: Usage
    cached_calls: int
    failed_calls: int
    busy_s: float

    @property
    def tokens_per_s(self) -> float | None:
        """Completion tokens per second of model time; None before any time passed."""
        if self.busy_s <= 0 or not self.usage.completion_tokens:
            return None
        return self.usage.completion_tokens / self.busy_s


class Activity:
    """Thread-safe tally of calls (see the module docstring); ``listener`` is called
    after every change, e.g. to redraw a progress line."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        listener: Callable[[], None] | None = None,
    ) -> None:
        self._clock = clock
        self.listener = listener
        self._lock = threading.Lock()
        self._in_flight: Counter[str] = Counter()
        self._usage = Usage()
        self._cached = 0
        self._failed = 0
        self._busy_s = 0.0
        self._busy_since: float | None = None

    def started(self, stage: str) -> None:
        with self._lock:
            if not self._in_flight:
                self._busy_since = self._clock()
            self._in_flight[stage] += 1
        self._changed()

    def finished(self, stage: str, completion: Completion | None) -> None:
        """A call of ``stage`` ended with ``completion`` (None: it failed)."""
        with self._lock:
            self._in_flight[stage] -= 1
            if self._in_flight[stage] <= 0:
                del self._in_flight[stage]
            if not self._in_flight and self._busy_since is not None:
                self._busy_s += self._clock() - self._busy_since
                self._busy_since = None
            if completion is None:
                self._failed += 1
            elif completion.cached:
                self._cached += 1
            else:
                self._usage += completion.usage
        self._changed()

    def snapshot(self) -> ActivitySnapshot:
        with self._lock:
            busy = self._busy_s
            if self._busy_since is not None:
                busy += self._clock() - self._busy_since
            return ActivitySnapshot(
                tuple(self._in_flight), self._usage, self._cached, self._failed, busy
            )

    def _changed(self) -> None:
        if self.listener is not None:
            self.listener()


class WatchedBackend:
    """A `Backend` that reports each call's start and end to an `Activity`."""

    def __init__(self, backend: Backend, activity: Activity) -> None:
        self._backend = backend
        self.activity = activity

    @property
    def model(self) -> str:
        return self._backend.model

    async def complete(self, request: CompletionRequest) -> Completion:
        self.activity.started(request.stage)
        completion: Completion | None = None
        try:
            completion = await self._backend.complete(request)
            return completion
        finally:
            self.activity.finished(request.stage, completion)

    async def aclose(self) -> None:
        await self._backend.aclose()
