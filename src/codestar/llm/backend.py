"""The backend protocol: the one interface every model server is reached through.

A backend turns a `CompletionRequest` into a `Completion`. It does its own retries and
respects its own concurrency limit; it raises `codestar.errors.BackendError` (or a
subclass) when a request finally fails. It does no caching: the run store wraps any
backend for that.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from codestar.llm.types import Completion, CompletionRequest


@runtime_checkable
class Backend(Protocol):
    """Anything that answers chat completion requests."""

    @property
    def model(self) -> str:
        """The model's identity, as used in cache keys and reports."""
        ...

    async def complete(self, request: CompletionRequest) -> Completion:
        """Answer one request; raise `BackendError` on final failure."""
        ...

    async def aclose(self) -> None:
        """Release connections and servers; safe to call twice."""
        ...
