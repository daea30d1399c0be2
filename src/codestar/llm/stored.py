"""A backend wrapper that answers repeated requests from the run store and logs every call.

`StoredBackend` keys each request by `request_key` (model, rendered messages, sampling
parameters and sample index; *not* stage, role or problem, so the same prompt asked by
another stage or another selector is answered too). A key already answered in the store
comes back with ``cached=True`` and no server call. A miss calls the wrapped backend and
is written to the store before it is returned, so a run killed at any moment resumes
with zero repeated calls. A failure is written too (``error`` set) but never served as
an answer. Identical requests in flight at once share one server call.

With a `Ledger`, it tallies usage and refuses to launch a new call once the budget is
spent (`BudgetExceededError`, recorded as a ``budget`` event in the store); answers from
the store are always served, since they cost nothing.

It does not retry (the wrapped backend does) and does not decide concurrency.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import asdict, replace

from codestar.errors import BackendError, BudgetExceededError
from codestar.llm.accounting import Ledger
from codestar.llm.backend import Backend
from codestar.llm.sampling import SupportsCompleteMany, complete_many
from codestar.llm.store import CallRecord, RunStore, now
from codestar.llm.types import Completion, CompletionRequest, Usage


def rendered_messages(request: CompletionRequest) -> str:
    """The request's messages as the JSON text that is keyed and stored."""
    return json.dumps(
        [{"role": m.role, "content": m.content} for m in request.messages], ensure_ascii=False
    )


def rendered_params(request: CompletionRequest) -> str:
    """The sampling parameters as JSON; unset (``None``) ones are left out, so adding an
    optional parameter later does not change the keys of existing runs."""
    params = {name: value for name, value in asdict(request.params).items() if value is not None}
    return json.dumps(params, sort_keys=True)


def request_key(model: str, request: CompletionRequest) -> str:
    """The cache key of a request: sha256 over model, messages, parameters, sample index.

    >>> from codestar.llm.types import Message
    >>> len(request_key("m", CompletionRequest(messages=(Message("user", "hi"),))))
    64
    """
    material = json.dumps(
        [model, rendered_messages(request), rendered_params(request), request.sample_index]
    )
    return hashlib.sha256(material.encode()).hexdigest()


class StoredBackend:
    """A `Backend` answering from the run store first; ``role`` labels its stored calls."""

    def __init__(
        self,
        backend: Backend,
        store: RunStore,
        *,
        role: str | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self._backend = backend
        self.store = store
        self.role = role
        self.ledger = ledger
        self._in_flight: dict[str, asyncio.Future[Completion]] = {}

    @property
    def model(self) -> str:
        return self._backend.model

    async def aclose(self) -> None:
        await self._backend.aclose()

    async def complete(self, request: CompletionRequest) -> Completion:
        key = request_key(self.model, request)
        stored = self._lookup(key, request.stage)
        if stored is not None:
            return stored
        pending = self._in_flight.get(key)
        if pending is not None:
            completion = await asyncio.shield(pending)
            self._tally_cached(completion, request.stage)
            return replace(completion, cached=True)
        task = asyncio.ensure_future(self._call(key, request))
        self._in_flight[key] = task
        task.add_done_callback(lambda done: self._finished(key, done))
        # Shielded: a cancelled caller does not throw away an answer already paid for.
        return await asyncio.shield(task)

    def _finished(self, key: str, task: asyncio.Future[Completion]) -> None:
        self._in_flight.pop(key, None)
        if not task.cancelled():
            # Mark a failure as seen: its caller may have been cancelled meanwhile (a
            # sibling failed first), and the failure is in the store already; otherwise
            # asyncio prints "exception was never retrieved" with a traceback at exit.
            task.exception()

    async def complete_many(self, request: CompletionRequest, n: int) -> list[Completion]:
        """``n`` samples; stored ones are served, the missing tail is drawn in one go."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        keys = [
            request_key(self.model, replace(request, sample_index=request.sample_index + i))
            for i in range(n)
        ]
        found = [self._lookup(key, request.stage) for key in keys]
        missing = [i for i, completion in enumerate(found) if completion is None]
        if not missing:
            return [completion for completion in found if completion is not None]
        first = missing[0]
        if missing == list(range(first, n)) and len(missing) > 1 and self._draws_many():
            tail = replace(request, sample_index=request.sample_index + first)
            drawn = await self._call_many(keys[first:], tail, len(missing))
        else:
            # Scattered gaps, or a server without `n`: one request per missing sample, each
            # stored the moment it finishes (a kill loses none of them).
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(
                        self.complete(replace(request, sample_index=request.sample_index + i))
                    )
                    for i in missing
                ]
            drawn = [task.result() for task in tasks]
        answers = list(found)
        for index, completion in zip(missing, drawn, strict=True):
            answers[index] = completion
        return [completion for completion in answers if completion is not None]

    def _draws_many(self) -> bool:
        """Whether the wrapped backend may answer ``n`` samples in one request."""
        return (
            isinstance(self._backend, SupportsCompleteMany)
            and getattr(self._backend, "supports_n", None) is not False
        )

    def _lookup(self, key: str, stage: str) -> Completion | None:
        record = self.store.find_answer(key)
        if record is None:
            return None
        completion = Completion(
            text=record.text or "",
            finish_reason=record.finish_reason,
            usage=Usage(record.prompt_tokens, record.completion_tokens, 1),
            latency_s=record.latency_s,
            reasoning=record.reasoning,
            model=record.model,
            cached=True,
        )
        self._tally_cached(completion, stage)
        return completion

    def _tally_cached(self, completion: Completion, stage: str) -> None:
        if self.ledger is not None:
            self.ledger.record_cached(self.model, completion.usage, stage=stage)

    def _admit(self, calls: int) -> None:
        if self.ledger is None:
            return
        try:
            self.ledger.admit(self.model, calls=calls)
        except BudgetExceededError as error:
            self.store.record_event("budget", str(error))
            raise

    async def _call(self, key: str, request: CompletionRequest) -> Completion:
        self._admit(1)
        try:
            completion = await self._backend.complete(request)
        except BackendError as error:
            self._record(key, request, None, error)
            self._settle(request, Usage(calls=1), admitted=1)
            raise
        except BaseException:
            self._cancel(1)
            raise
        self._record(key, request, completion, None)
        self._settle(request, replace(completion.usage, calls=1), admitted=1)
        return completion

    async def _call_many(
        self, keys: list[str], request: CompletionRequest, n: int
    ) -> list[Completion]:
        # Reserve n calls: a server that ignores `n` costs one request per sample.
        self._admit(n)
        try:
            drawn = await complete_many(self._backend, request, n)
        except BackendError as error:
            self._record(keys[0], request, None, error)
            self._settle(request, Usage(calls=1), admitted=n)
            raise
        except BaseException:
            self._cancel(n)
            raise
        total = Usage()
        for offset, (key, completion) in enumerate(zip(keys, drawn, strict=True)):
            sample = replace(request, sample_index=request.sample_index + offset)
            self._record(key, sample, completion, None)
            total += completion.usage
        self._settle(request, replace(total, calls=max(1, total.calls)), admitted=n)
        return drawn

    def _settle(self, request: CompletionRequest, usage: Usage, *, admitted: int) -> None:
        if self.ledger is not None:
            self.ledger.settle(
                self.model, request.stage, request.problem_id, usage, admitted=admitted
            )

    def _cancel(self, admitted: int) -> None:
        if self.ledger is not None:
            self.ledger.cancel(admitted)

    def _record(
        self,
        key: str,
        request: CompletionRequest,
        completion: Completion | None,
        error: BaseException | None,
    ) -> None:
        usage = completion.usage if completion is not None else Usage()
        self.store.record_call(
            CallRecord(
                key,
                self.model,
                request.stage,
                self.role,
                request.problem_id,
                request.sample_index,
                rendered_messages(request),
                rendered_params(request),
                completion.text if completion is not None else None,
                completion.reasoning if completion is not None else None,
                completion.finish_reason if completion is not None else None,
                usage.prompt_tokens,
                usage.completion_tokens,
                completion.latency_s if completion is not None else 0.0,
                f"{type(error).__name__}: {error}" if error is not None else None,
                now(),
            )
        )
