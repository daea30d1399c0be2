"""StoredBackend over a real OpenAIBackend and HTTP server: caching, logging, budgets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
from faultserver import FaultServer, ok, server_error, unauthorized

from codestar.errors import AuthenticationError, BackendError, BudgetExceededError
from codestar.llm.accounting import Budget, Ledger, Price, PriceTable
from codestar.llm.openai_backend import OpenAIBackend
from codestar.llm.retry import RetryPolicy
from codestar.llm.store import RunStore
from codestar.llm.stored import StoredBackend, request_key
from codestar.llm.types import CompletionRequest, Message, SamplingParams

T = TypeVar("T")
FAST = RetryPolicy(max_retries=1, base_delay_s=0.01, max_delay_s=0.01)


def request(text: str = "hello", **fields: Any) -> CompletionRequest:
    base = CompletionRequest(
        messages=(Message("user", text),),
        params=SamplingParams(temperature=0.7),
        stage="generate",
        problem_id="p1",
    )
    return replace(base, **fields)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    with RunStore(tmp_path / "run") as opened:
        yield opened


def stored(
    server: FaultServer, store: RunStore, ledger: Ledger | None = None, **options: object
) -> StoredBackend:
    backend = OpenAIBackend(
        "fault-model",
        base_url=server.url,
        retry_policy=FAST,
        timeout_s=5,
        **options,  # type: ignore[arg-type]
    )
    return StoredBackend(backend, store, role="generator", ledger=ledger)


def run(backend: StoredBackend, work: Callable[[StoredBackend], Awaitable[T]]) -> T:
    async def go() -> T:
        try:
            return await work(backend)
        finally:
            await backend.aclose()

    return asyncio.run(go())


def test_a_repeated_request_is_answered_without_the_server(
    server: FaultServer, store: RunStore
) -> None:
    backend = stored(server, store)
    first = run(backend, lambda b: b.complete(request()))
    again = run(backend, lambda b: b.complete(request(stage="judge", problem_id="p9")))
    assert server.count == 1
    assert not first.cached and again.cached
    assert again.text == first.text and again.usage.prompt_tokens == first.usage.prompt_tokens
    # A fresh backend on the reopened run directory, as after a restart.
    with RunStore(store.run_dir) as reopened:
        later = run(stored(server, reopened), lambda b: b.complete(request()))
    assert later.cached and server.count == 1


@pytest.mark.parametrize(
    "changed",
    [
        {"sample_index": 1},
        {"params": SamplingParams(temperature=0.2)},
        {"params": SamplingParams(temperature=0.7, stop=("```",))},
        {"messages": (Message("system", "x"), Message("user", "hello"))},
    ],
    ids=["sample-index", "temperature", "stop", "messages"],
)
def test_the_key_separates_what_changes_the_answer(
    server: FaultServer, store: RunStore, changed: dict[str, Any]
) -> None:
    backend = stored(server, store)
    run(backend, lambda b: b.complete(request()))
    answer = run(backend, lambda b: b.complete(request(**changed)))
    assert not answer.cached and server.count == 2
    assert request_key("fault-model", request()) != request_key("fault-model", request(**changed))
    assert request_key("fault-model", request()) != request_key("other-model", request())


def test_every_call_is_logged_with_its_request(server: FaultServer, store: RunStore) -> None:
    server.push(ok("<think>plan</think>print(2)"))
    run(stored(server, store), lambda b: b.complete(request("sum two numbers", sample_index=3)))
    [record] = store.calls()
    assert (record.role, record.stage, record.problem_id, record.sample_index) == (
        "generator", "generate", "p1", 3,
    )  # fmt: skip
    assert json.loads(record.messages) == [{"role": "user", "content": "sum two numbers"}]
    assert json.loads(record.params)["temperature"] == 0.7
    assert (record.text, record.reasoning, record.error) == ("print(2)", "plan", None)
    assert record.prompt_tokens == 3 and record.latency_s > 0


def test_failures_are_recorded_but_never_served(server: FaultServer, store: RunStore) -> None:
    server.push(unauthorized())
    backend = stored(server, store)
    with pytest.raises(AuthenticationError):
        run(backend, lambda b: b.complete(request()))
    [failed] = store.calls()
    assert failed.text is None and failed.error is not None
    assert failed.error.startswith("AuthenticationError")
    assert not run(backend, lambda b: b.complete(request())).cached
    assert server.count == 2


def test_persistent_server_failure_is_recorded(server: FaultServer, store: RunStore) -> None:
    server.push(server_error(), server_error())
    with pytest.raises(BackendError, match="HTTP 500"):
        run(stored(server, store), lambda b: b.complete(request()))
    assert "HTTP 500" in (store.calls()[0].error or "")


def test_identical_requests_in_flight_share_one_call(server: FaultServer, store: RunStore) -> None:
    server.push(ok(delay_s=0.2))

    async def five(backend: StoredBackend) -> list[bool]:
        answers = await asyncio.gather(*(backend.complete(request()) for _ in range(5)))
        return [answer.cached for answer in answers]

    assert sorted(run(stored(server, store), five)) == [False, True, True, True, True]
    assert server.count == 1 and len(store.calls()) == 1


def test_many_samples_draw_only_the_missing_tail(server: FaultServer, store: RunStore) -> None:
    backend = stored(server, store)
    first = run(backend, lambda b: b.complete_many(request(), 3))
    assert server.count == 1 and server.requests[0]["n"] == 3
    more = run(backend, lambda b: b.complete_many(request(), 5))
    assert server.count == 2 and server.requests[1]["n"] == 2
    assert [c.text for c in more[:3]] == [c.text for c in first]
    assert [c.cached for c in more] == [True, True, True, False, False]
    assert sorted(r.sample_index for r in store.calls()) == [0, 1, 2, 3, 4]
    # A single request for sample 4 is now a store answer too.
    assert run(backend, lambda b: b.complete(request(sample_index=4))).cached
    assert server.count == 2


def test_many_samples_fill_scattered_gaps_one_by_one(server: FaultServer, store: RunStore) -> None:
    backend = stored(server, store)
    run(backend, lambda b: b.complete(request(sample_index=1)))
    texts = run(backend, lambda b: b.complete_many(request(), 3))
    assert [c.cached for c in texts] == [False, True, False]
    assert server.count == 3 and all("n" not in body for body in server.requests)


def test_call_budget_stops_new_calls_but_serves_stored_answers(
    server: FaultServer, store: RunStore
) -> None:
    ledger = Ledger(budget=Budget(max_calls=2))
    backend = stored(server, store, ledger)
    run(backend, lambda b: b.complete(request("a")))
    run(backend, lambda b: b.complete(request("b")))
    with pytest.raises(BudgetExceededError, match="call budget"):
        run(backend, lambda b: b.complete(request("c")))
    assert server.count == 2
    assert run(backend, lambda b: b.complete(request("a"))).cached
    [event] = store.events("budget")
    assert "2 of 2 calls" in event.message
    report = ledger.report()
    assert report.stopped is not None and report.total.usage.calls == 2
    assert report.cached.usage.calls == 1


def test_token_and_money_budgets(server: FaultServer, store: RunStore) -> None:
    prices = PriceTable({"fault-model": Price(1_000_000.0, 2_000_000.0)})
    ledger = Ledger(prices, Budget(max_cost=5.0))
    backend = stored(server, store, ledger)
    run(backend, lambda b: b.complete(request("a")))  # 1 prompt + 2 completion tokens = 5.0
    assert ledger.report().total.cost == pytest.approx(5.0)
    with pytest.raises(BudgetExceededError, match="money budget"):
        run(backend, lambda b: b.complete(request("b")))
    tokens = Ledger(budget=Budget(max_tokens=3))
    backend = stored(server, store, tokens)
    run(backend, lambda b: b.complete(request("c")))
    with pytest.raises(BudgetExceededError, match="token budget"):
        run(backend, lambda b: b.complete(request("d")))
    assert server.count == 2


def test_ledger_groups_by_stage_and_problem(server: FaultServer, store: RunStore) -> None:
    ledger = Ledger()
    backend = stored(server, store, ledger)

    async def work(b: StoredBackend) -> None:
        await b.complete(request("a", stage="generate", problem_id="p1"))
        await b.complete(request("b c", stage="judge", problem_id="p1"))
        await b.complete(request("d", stage="judge", problem_id="p2"))
        await b.complete(request("d", stage="judge", problem_id="p2"))  # served from the store

    run(backend, work)
    report = ledger.report()
    assert report.total.usage.calls == 3 and report.cached.usage.calls == 1
    assert report.by_stage["judge"].usage.calls == 2
    assert report.by_problem["p1"].usage.prompt_tokens == 1 + 2
    assert report.unpriced_models == frozenset({"fault-model"})


def test_a_resumed_run_counts_earlier_spend_against_its_budget(
    server: FaultServer, store: RunStore
) -> None:
    first = Ledger(budget=Budget(max_calls=3))
    backend = stored(server, store, first)
    run(backend, lambda b: b.complete_many(request("a"), 2))  # one request, two rows
    run(backend, lambda b: b.complete(request("b")))
    # The process dies; the next one rebuilds its ledger from the store.
    later = Ledger(budget=Budget(max_calls=3))
    later.replay(store.calls())
    assert later.report().total == first.report().total
    assert later.report().by_stage == first.report().by_stage
    backend = stored(server, store, later)
    assert run(backend, lambda b: b.complete(request("b"))).cached
    run(backend, lambda b: b.complete(request("c")))
    with pytest.raises(BudgetExceededError):
        run(backend, lambda b: b.complete(request("d")))
    assert server.count == 3


def test_without_n_each_sample_is_its_own_stored_request(store: RunStore) -> None:
    with FaultServer(n_mode="ignore") as server:
        backend = stored(server, store)
        run(backend, lambda b: b.complete_many(request("a"), 3))  # probes n once
        assert server.count == 3 and server.requests[0].get("n") == 3
        run(backend, lambda b: b.complete_many(request("b"), 3))
        assert server.count == 6 and all("n" not in body for body in server.requests[3:])
    stored_samples = sorted(
        (json.loads(r.messages)[-1]["content"], r.sample_index) for r in store.calls()
    )
    assert stored_samples == [("a", 0), ("a", 1), ("a", 2), ("b", 0), ("b", 1), ("b", 2)]
