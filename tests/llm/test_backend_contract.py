"""One contract, every backend: what the pipeline may rely on from any `Backend`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from faultserver import FaultServer

from codestar.llm.accounting import Ledger, MeteredBackend
from codestar.llm.backend import Backend
from codestar.llm.openai_backend import OpenAIBackend
from codestar.llm.retry import RetryPolicy
from codestar.llm.sampling import complete_many
from codestar.llm.scripted import ScriptedBackend
from codestar.llm.spec import open_backend
from codestar.llm.store import RunStore
from codestar.llm.stored import StoredBackend
from codestar.llm.types import Completion, CompletionRequest, Message, SamplingParams

Factory = Callable[[ExitStack, Path], Backend]


def _openai(stack: ExitStack, _: Path) -> Backend:
    server = stack.enter_context(FaultServer())
    return OpenAIBackend("m", base_url=server.url, retry_policy=RetryPolicy(max_retries=1))


def _stored(stack: ExitStack, tmp: Path) -> Backend:
    store = stack.enter_context(RunStore(tmp))
    return StoredBackend(_openai(stack, tmp), store, role="generator")


def _metered(stack: ExitStack, tmp: Path) -> Backend:
    return MeteredBackend(_openai(stack, tmp), Ledger())


def _scripted(stack: ExitStack, tmp: Path) -> Backend:
    return ScriptedBackend(lambda request: "print(1)")


def _local(stack: ExitStack, tmp: Path) -> Backend:
    return open_backend("local")


FACTORIES = [
    pytest.param(_scripted, id="scripted"),
    pytest.param(_openai, id="openai"),
    pytest.param(_stored, id="stored"),
    pytest.param(_metered, id="metered"),
    pytest.param(_local, id="local", marks=[pytest.mark.slow, pytest.mark.model]),
]


@pytest.fixture(params=FACTORIES)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with ExitStack() as stack:
        yield request.param(stack, tmp_path)


def ask(text: str, index: int = 0) -> CompletionRequest:
    return CompletionRequest(
        messages=(Message("user", text),),
        params=SamplingParams(temperature=0.0, max_tokens=16),
        sample_index=index,
        stage="generate",
        problem_id="contract",
    )


def test_backend_honours_the_contract(backend: Backend) -> None:
    async def go() -> tuple[Completion, list[Completion]]:
        try:
            one = await backend.complete(ask("Say hi."))
            many = await complete_many(backend, ask("Say hi.", 5), 3)
            return one, many
        finally:
            await backend.aclose()
            await backend.aclose()  # closing twice is safe

    assert isinstance(backend, Backend)
    assert isinstance(backend.model, str) and backend.model
    one, many = asyncio.run(go())
    assert isinstance(one.text, str) and "<think>" not in one.text
    assert one.finish_reason in ("stop", "length")
    assert one.usage.calls <= 1
    assert len(many) == 3 and all(isinstance(c, Completion) for c in many)
