"""The usage ledger, prices and budgets (MeteredBackend over the scripted backend)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from codestar.errors import BudgetExceededError, ConfigError
from codestar.llm.accounting import Budget, Ledger, MeteredBackend, Price, PriceTable
from codestar.llm.scripted import ScriptedBackend
from codestar.llm.types import CompletionRequest, Message, Usage


def test_prices_turn_tokens_into_money() -> None:
    price = Price(prompt_per_million=2.0, completion_per_million=8.0)
    assert price.cost(Usage(500_000, 250_000, 1)) == pytest.approx(3.0)
    ledger = Ledger(PriceTable({"a": price}))
    ledger.admit("a")
    ledger.settle("a", "generate", "p", Usage(1_000_000, 0, 1))
    ledger.admit("b")
    ledger.settle("b", "judge", "p", Usage(10, 10, 1))
    report = ledger.report()
    assert report.total.cost == pytest.approx(2.0)
    assert report.by_model["b"].cost == 0.0 and report.unpriced_models == frozenset({"b"})


def test_ledger_is_exact_under_threads() -> None:
    ledger = Ledger()

    def work(stage: str) -> None:
        for _ in range(2000):
            ledger.admit("m")
            ledger.settle("m", stage, "p", Usage(1, 2, 1))
            ledger.record_cached("m", Usage(1, 1, 1))

    threads = [threading.Thread(target=work, args=(f"s{i % 2}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = ledger.report()
    assert report.total.usage == Usage(16_000, 32_000, 16_000)
    assert report.by_stage["s0"].usage.calls == 8_000
    assert report.cached.usage.calls == 16_000


def test_call_budget_counts_calls_in_flight() -> None:
    ledger = Ledger(budget=Budget(max_calls=2))
    ledger.admit("m")
    ledger.admit("m")
    with pytest.raises(BudgetExceededError, match="2 of 2 calls"):
        ledger.admit("m")
    ledger.cancel()
    ledger.admit("m")  # a cancelled call gives its place back
    assert ledger.stopped is not None and "call budget" in ledger.stopped


def test_money_budget_needs_prices() -> None:
    with pytest.raises(ConfigError, match=r'\[prices."m"\]'):
        Ledger(budget=Budget(max_cost=1.0)).admit("m")
    with pytest.raises(ConfigError, match="max_tokens"):
        Budget(max_tokens=-5)


def test_metered_backend_stops_launching_and_keeps_finished_work() -> None:
    scripted = ScriptedBackend(lambda request: "one two three")
    ledger = Ledger(budget=Budget(max_tokens=10))
    backend = MeteredBackend(scripted, ledger)

    def ask(text: str) -> str:
        request = CompletionRequest(messages=(Message("user", text),), stage="judge")
        return asyncio.run(backend.complete(request)).text

    answers = [ask("a b c d"), ask("e f g h")]  # 7 tokens each: the second crosses 10
    with pytest.raises(BudgetExceededError, match="token budget spent: 14 of 10"):
        ask("i")
    assert answers == ["one two three"] * 2
    assert len(scripted.requests) == 2
    assert ledger.report().by_stage["judge"].usage.total_tokens == 14
