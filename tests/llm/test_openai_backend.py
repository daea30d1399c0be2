"""OpenAIBackend against a real HTTP server on 127.0.0.1 that injects faults."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest
from faultserver import (
    Fault,
    FaultServer,
    context_overflow,
    dropped,
    empty_choices,
    garbage,
    malformed,
    model_missing,
    ok,
    rate_limited,
    reply_text,
    server_error,
    slow,
    status,
    unauthorized,
)

from codestar.errors import (
    AuthenticationError,
    BackendError,
    BackendUnreachableError,
    ContextLengthError,
    ModelNotFoundError,
)
from codestar.llm.openai_backend import OpenAIBackend
from codestar.llm.retry import RetryPolicy
from codestar.llm.types import Completion, CompletionRequest, Message, SamplingParams

FAST = RetryPolicy(max_retries=3, base_delay_s=0.01, max_delay_s=0.02)


def request(text: str = "hello", **params: object) -> CompletionRequest:
    return CompletionRequest(
        messages=(Message("system", "be brief"), Message("user", text)),
        params=SamplingParams(**params),  # type: ignore[arg-type]
    )


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def backend_for(server: FaultServer, **options: object) -> OpenAIBackend:
    options.setdefault("retry_policy", FAST)
    options.setdefault("timeout_s", 5.0)
    return OpenAIBackend("fault-model", base_url=server.url, **options)  # type: ignore[arg-type]


def complete(backend: OpenAIBackend, req: CompletionRequest | None = None) -> Completion:
    async def go() -> Completion:
        try:
            return await backend.complete(req or request())
        finally:
            await backend.aclose()

    return asyncio.run(go())


def test_answer_carries_text_usage_and_finish_reason(server: FaultServer) -> None:
    completion = complete(backend_for(server), request("hello", temperature=0.5, seed=3))
    assert completion.text == "echo hello"
    assert completion.usage.prompt_tokens == 3
    assert completion.usage.calls == 1
    assert completion.finish_reason == "stop"
    assert completion.latency_s > 0
    body = server.requests[0]
    assert body["temperature"] == 0.5 and body["seed"] == 3 and "n" not in body


@pytest.mark.parametrize(
    "fault",
    [
        rate_limited(),
        server_error(),
        malformed(),
        garbage(),
        dropped(),
        empty_choices(),
        status(503, "overloaded"),
        slow(1.5),
    ],
    ids=["429", "500", "malformed", "garbage", "dropped", "empty", "503", "slow"],
)
def test_transient_failures_are_retried_until_an_answer(server: FaultServer, fault: Fault) -> None:
    server.push(fault, fault)
    completion = complete(backend_for(server, timeout_s=0.5))
    assert completion.text == "echo hello"
    assert server.count == 3


def test_retry_after_is_honoured(server: FaultServer) -> None:
    server.push(rate_limited(retry_after="0.4"))
    started = time.perf_counter()
    complete(backend_for(server))
    assert time.perf_counter() - started >= 0.4
    assert server.count == 2


def test_persistent_failure_is_one_clear_backend_error(server: FaultServer) -> None:
    server.push(*[server_error()] * 10)
    with pytest.raises(BackendError) as caught:
        complete(backend_for(server))
    assert type(caught.value) is BackendError
    message = str(caught.value)
    assert "HTTP 500" in message and "4 attempts" in message and server.url in message
    assert server.count == 4


@pytest.mark.parametrize(
    ("fault", "error", "words"),
    [
        (unauthorized(), AuthenticationError, "OPENAI_API_KEY"),
        (model_missing(), ModelNotFoundError, "codestar models"),
        (context_overflow(), ContextLengthError, "context"),
        (status(400, "temperature must be <= 2"), BackendError, "temperature must be"),
    ],
    ids=["401", "404", "context", "400"],
)
def test_final_errors_are_not_retried(
    server: FaultServer, fault: Fault, error: type[Exception], words: str
) -> None:
    server.push(fault)
    with pytest.raises(error) as caught:
        complete(backend_for(server))
    assert words in str(caught.value)
    assert server.count == 1


def test_unknown_model_names_model_and_url() -> None:
    with FaultServer(models=["real-model"]) as server, pytest.raises(ModelNotFoundError) as caught:
        complete(backend_for(server))
    assert "'fault-model'" in str(caught.value) and server.url in str(caught.value)


def test_unreachable_server_names_the_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    backend = OpenAIBackend("m", base_url=url, retry_policy=FAST, timeout_s=2)
    with pytest.raises(BackendUnreachableError) as caught:
        complete(backend)
    assert url in str(caught.value) and "--base-url" in str(caught.value)


def test_missing_key_for_openai_is_reported_at_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(AuthenticationError, match="OPENAI_API_KEY"):
        OpenAIBackend("gpt-4o-mini")


def test_environment_supplies_base_url_and_key(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    backend = OpenAIBackend("fault-model")
    assert backend.base_url == server.url
    assert complete(backend).text == "echo hello"


def test_reasoning_is_kept_out_of_the_text(server: FaultServer) -> None:
    server.push(ok("<think>maybe x</think>\nprint(1)", reasoning_content="first idea"))
    completion = complete(backend_for(server))
    assert completion.text == "print(1)"
    assert completion.reasoning == "first idea\n\nmaybe x"


def test_concurrency_is_limited(server: FaultServer) -> None:
    server.push(*[ok(delay_s=0.15)] * 6)
    backend = backend_for(server, max_concurrency=2)

    async def go() -> None:
        await asyncio.gather(*(backend.complete(request(str(i))) for i in range(6)))
        await backend.aclose()

    asyncio.run(go())
    assert server.count == 6
    assert server.max_in_flight == 2


def many(backend: OpenAIBackend, n: int, calls: int = 1) -> list[list[str]]:
    async def go() -> list[list[str]]:
        results = []
        for _ in range(calls):
            batch = await backend.complete_many(request("hi", temperature=0.8), n)
            results.append([completion.text for completion in batch])
        await backend.aclose()
        return results

    return asyncio.run(go())


def test_n_in_one_request_where_supported(server: FaultServer) -> None:
    backend = backend_for(server)
    assert many(backend, 3) == [["echo hi", "echo hi #1", "echo hi #2"]]
    assert server.count == 1 and server.requests[0]["n"] == 3
    assert backend.supports_n is True


@pytest.mark.parametrize("n_mode", ["ignore", "reject"])
def test_n_falls_back_to_one_request_per_sample(n_mode: str) -> None:
    with FaultServer(n_mode=n_mode) as server:  # type: ignore[arg-type]
        backend = backend_for(server)
        texts = many(backend, 3, calls=2)
        assert texts == [["echo hi"] * 3] * 2
        assert backend.supports_n is False
        # The first call probes n once; afterwards the backend remembers.
        assert server.count == (3 if n_mode == "ignore" else 4) + 3
        assert all("n" not in body for body in server.requests[-3:])


def test_usage_of_a_shared_request_is_counted_once(server: FaultServer) -> None:
    backend = backend_for(server)

    async def go() -> int:
        batch = await backend.complete_many(request("hi"), 4)
        await backend.aclose()
        return sum(completion.usage.calls for completion in batch)

    assert asyncio.run(go()) == 1


def test_backend_survives_a_second_event_loop(server: FaultServer) -> None:
    backend = backend_for(server)
    for _ in range(2):
        assert asyncio.run(backend.complete(request())).text == reply_text(
            {"messages": [{"content": "hello"}]}
        )


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_a_refused_connection_on_this_machine_is_not_retried(host: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The default policy: six retries, 16 s or more of backoff before giving up.
    backend = OpenAIBackend("m", base_url=f"http://{host}:{port}/v1", timeout_s=5)
    started = time.monotonic()
    with pytest.raises(BackendUnreachableError, match="connection refused"):
        complete(backend)
    assert time.monotonic() - started < 5
