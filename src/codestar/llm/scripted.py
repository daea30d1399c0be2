"""A scripted backend for deterministic tests and examples (like httpx's MockTransport).

It answers from a function of the request, or from a queue of texts, and records every
request it saw. It ships with the library so tests of every strategy run end to end
through the real code path without patching anything.

    >>> import asyncio
    >>> from codestar.llm.types import CompletionRequest, Message
    >>> backend = ScriptedBackend(["print(1)"])
    >>> asyncio.run(backend.complete(CompletionRequest(messages=(Message("user", "hi"),)))).text
    'print(1)'
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from inspect import isawaitable

from codestar.errors import BackendError
from codestar.llm.types import Completion, CompletionRequest, Usage

Responder = Callable[[CompletionRequest], "str | Completion | Awaitable[str | Completion]"]


class ScriptedBackend:
    """Answers requests from a responder function or a fixed queue of replies."""

    def __init__(
        self,
        script: Responder | Iterable[str | Completion],
        *,
        model: str = "scripted",
        latency_s: float = 0.0,
    ) -> None:
        self._model = model
        self._latency_s = latency_s
        self._responder: Responder | None = None
        self._queue: deque[str | Completion] = deque()
        if callable(script):
            self._responder = script
        else:
            self._queue.extend(script)
        self.requests: list[CompletionRequest] = []

    @property
    def model(self) -> str:
        return self._model

    async def complete(self, request: CompletionRequest) -> Completion:
        self.requests.append(request)
        if self._latency_s:
            await asyncio.sleep(self._latency_s)
        if self._responder is not None:
            answer = self._responder(request)
            if isawaitable(answer):
                answer = await answer
        elif self._queue:
            answer = self._queue.popleft()
        else:
            raise BackendError("scripted backend ran out of replies")
        if isinstance(answer, Completion):
            return answer
        prompt_tokens = sum(len(m.content.split()) for m in request.messages)
        return Completion(
            text=answer,
            usage=Usage(prompt_tokens, len(answer.split()), 1),
            latency_s=self._latency_s,
            model=self._model,
        )

    async def aclose(self) -> None:
        return None
