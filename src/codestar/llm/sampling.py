"""Drawing several samples of one prompt from any backend.

Some backends answer ``n`` samples in one request (`OpenAIBackend.complete_many`); any
other backend is asked once per sample. Sample ``i`` of a request stands for
``sample_index + i``, so each sample keeps its own identity in the run store whichever
way it was drawn. This module does not retry or cache; the backends do.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Protocol, runtime_checkable

from codestar.llm.backend import Backend
from codestar.llm.types import Completion, CompletionRequest


@runtime_checkable
class SupportsCompleteMany(Protocol):
    """A backend that can draw ``n`` samples of one request itself."""

    async def complete_many(self, request: CompletionRequest, n: int) -> list[Completion]: ...


async def complete_many(backend: Backend, request: CompletionRequest, n: int) -> list[Completion]:
    """``n`` completions of ``request`` (sample indices ``sample_index .. + n - 1``)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if isinstance(backend, SupportsCompleteMany):
        return await backend.complete_many(request, n)
    return await complete_each(backend, request, range(n))


async def complete_each(
    backend: Backend, request: CompletionRequest, offsets: range
) -> list[Completion]:
    """One request per sample offset, concurrently; the first failure cancels the rest."""
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(
                backend.complete(replace(request, sample_index=request.sample_index + offset))
            )
            for offset in offsets
        ]
    return [task.result() for task in tasks]
