"""A per-problem wall-clock limit, enforced where model calls are made.

Once a problem's `Deadline` has passed, its backends refuse new calls with
`BudgetExceededError`, the same refusal a spent token budget gives: the pipeline's
stages then stop launching calls, keep what finished, and the method selects from that
(`SolveResult.stopped` says why). A call still running when the deadline passes is no
longer waited for; the run store's shielded call finishes in the background and is
stored, so nothing paid for is lost.

It limits model calls only; executions are bounded by their own per-test limits.

    >>> Deadline.after(10).remaining() > 9
    True
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from codestar.errors import BudgetExceededError
from codestar.llm.backend import Backend
from codestar.llm.types import Completion, CompletionRequest
from codestar.pipeline.config import Models


@dataclass(frozen=True, slots=True)
class Deadline:
    """A moment on the monotonic clock, and the limit it came from."""

    at: float
    seconds: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds, seconds)

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def message(self) -> str:
        return f"the problem's time limit ({self.seconds:g} s) was reached"


class DeadlineBackend:
    """A backend that refuses calls past ``deadline`` and stops waiting at it."""

    def __init__(self, backend: Backend, deadline: Deadline) -> None:
        self._backend = backend
        self.deadline = deadline

    @property
    def model(self) -> str:
        return self._backend.model

    async def complete(self, request: CompletionRequest) -> Completion:
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise BudgetExceededError(self.deadline.message())
        try:
            return await asyncio.wait_for(self._backend.complete(request), remaining)
        except TimeoutError:
            raise BudgetExceededError(self.deadline.message()) from None

    async def aclose(self) -> None:
        """Nothing to close: the wrapped backend belongs to the whole run."""


def with_deadline(models: Models, deadline: Deadline) -> Models:
    """``models`` with every role's backend behind ``deadline`` (shared ones stay shared)."""
    return models.map(lambda backend: DeadlineBackend(backend, deadline))
