"""Counting model usage and money, and hard budgets that stop new calls.

A `Ledger` tallies `Usage` per stage (generate, debug, inputs, distinguish, judge...),
per problem, per model and in total; answers served from the run store are tallied
apart, since they cost nothing. An optional `PriceTable` (prices per million tokens)
turns tokens into money. A `Budget` (tokens, money, calls) is checked by
`Ledger.admit` *before* a call is launched: once spent, admission raises
`BudgetExceededError`, the reason is kept in `Ledger.stopped`, and work already
finished is untouched.

Calls are counted when admitted (so ``max_calls`` is exact under concurrency); tokens
and money only when a call finishes, so concurrent calls in flight when the budget runs
out may overshoot it by at most their own size.

It does not wrap backends itself: `codestar.llm.stored.StoredBackend` consults a ledger
for every call, and `MeteredBackend` here does so for runs without a store.

    >>> ledger = Ledger(budget=Budget(max_calls=1))
    >>> ledger.admit("m")
    >>> ledger.settle("m", "generate", "p1", Usage(10, 5, 1))
    >>> ledger.report().total.usage
    Usage(prompt_tokens=10, completion_tokens=5, calls=1)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from codestar.errors import BackendError, BudgetExceededError, ConfigError
from codestar.llm.backend import Backend
from codestar.llm.types import Completion, CompletionRequest, Usage

if TYPE_CHECKING:
    from codestar.llm.store import CallRecord


@dataclass(frozen=True, slots=True)
class Price:
    """Dollars (or any currency) per million prompt and completion tokens."""

    prompt_per_million: float
    completion_per_million: float

    def cost(self, usage: Usage) -> float:
        return (
            usage.prompt_tokens * self.prompt_per_million
            + usage.completion_tokens * self.completion_per_million
        ) / 1_000_000


@dataclass(frozen=True, slots=True)
class PriceTable:
    """Prices by model name; models without a price cost nothing and are reported."""

    prices: Mapping[str, Price] = field(default_factory=dict)

    def price(self, model: str) -> Price | None:
        return self.prices.get(model)


@dataclass(frozen=True, slots=True, kw_only=True)
class Budget:
    """Hard limits for a run; ``None`` means unlimited."""

    max_tokens: int | None = None
    max_cost: float | None = None
    max_calls: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_tokens", "max_cost", "max_calls"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ConfigError(f"budget {name} must be >= 0, got {value}")


@dataclass(frozen=True, slots=True)
class Tally:
    """Usage and money of a group of calls."""

    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.usage + other.usage, self.cost + other.cost)

    def to_dict(self) -> dict[str, float | int]:
        return {
            "prompt_tokens": self.usage.prompt_tokens,
            "completion_tokens": self.usage.completion_tokens,
            "total_tokens": self.usage.total_tokens,
            "calls": self.usage.calls,
            "cost": self.cost,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerReport:
    """A snapshot of a ledger. Grouped tallies exclude store-answered (cached) calls;
    ``cached_by_stage`` groups those (what they would have cost, spent nothing)."""

    total: Tally
    cached: Tally
    by_stage: Mapping[str, Tally]
    by_problem: Mapping[str, Tally]
    by_model: Mapping[str, Tally]
    unpriced_models: frozenset[str]
    stopped: str | None
    cached_by_stage: Mapping[str, Tally] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form: spent tallies (total, per stage, problem, model), the
        answers served from the store, unpriced models and why the run stopped."""
        return {
            "spent": self.total.to_dict(),
            "by_stage": {name: t.to_dict() for name, t in self.by_stage.items()},
            "by_problem": {name: t.to_dict() for name, t in self.by_problem.items()},
            "by_model": {name: t.to_dict() for name, t in self.by_model.items()},
            "cached": self.cached.to_dict(),
            "unpriced_models": sorted(self.unpriced_models),
            "stopped": self.stopped,
        }


class Ledger:
    """Thread-safe usage tally with an optional price table and budget."""

    def __init__(self, prices: PriceTable | None = None, budget: Budget | None = None) -> None:
        self.prices = prices or PriceTable()
        self.budget = budget or Budget()
        self._lock = threading.Lock()
        self._total = Tally()
        self._cached = Tally()
        self._cached_by_stage: dict[str, Tally] = {}
        self._by_stage: dict[str, Tally] = {}
        self._by_problem: dict[str, Tally] = {}
        self._by_model: dict[str, Tally] = {}
        self._unpriced: set[str] = set()
        self._in_flight = 0
        self.stopped: str | None = None

    def admit(self, model: str, *, calls: int = 1) -> None:
        """Allow ``calls`` new calls, or raise `BudgetExceededError` if the budget is spent.

        Every admission must be followed by exactly one `settle` or `cancel` with the
        same number of calls.
        """
        budget = self.budget
        if budget.max_cost is not None and self.prices.price(model) is None:
            raise ConfigError(
                f"a money budget is set but model {model!r} has no price",
                hint=f'add [prices."{model}"] with prompt and completion to the config file',
            )
        with self._lock:
            reason = self._spent_reason(calls)
            if reason is not None:
                self.stopped = self.stopped or reason
                raise BudgetExceededError(
                    f"{reason}; no new model calls are launched",
                    hint="finished work is kept in the run directory: raise the budget and "
                    "run again with the same --run-dir to continue",
                )
            self._in_flight += calls

    def _spent_reason(self, calls: int) -> str | None:
        budget, usage = self.budget, self._total.usage
        launched = usage.calls + self._in_flight
        if budget.max_calls is not None and launched + calls > budget.max_calls:
            return f"call budget spent: {launched} of {budget.max_calls} calls launched"
        if budget.max_tokens is not None and usage.total_tokens >= budget.max_tokens:
            return f"token budget spent: {usage.total_tokens:,} of {budget.max_tokens:,} tokens"
        if budget.max_cost is not None and self._total.cost >= budget.max_cost:
            return f"money budget spent: {self._total.cost:.4f} of {budget.max_cost:.4f}"
        return None

    def settle(
        self,
        model: str,
        stage: str,
        problem_id: str | None,
        usage: Usage,
        *,
        admitted: int = 1,
    ) -> None:
        """Record the usage of finished (or failed) admitted calls."""
        with self._lock:
            tally = Tally(usage, self._cost(model, usage))
            self._in_flight = max(0, self._in_flight - admitted)
            self._add(model, stage, problem_id, tally)

    def cancel(self, admitted: int = 1) -> None:
        """Give back an admission whose calls never finished (cancelled)."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - admitted)

    def replay(self, calls: Iterable[CallRecord]) -> None:
        """Tally calls from the run store as spent (earlier processes of a resumed run).

        Run it once when a run starts on an existing run directory, so that a budget
        covers the whole run and not only the part since the last restart. Each stored
        row is one call, except the token-less rows that share a single ``n > 1``
        request with the row that carries its usage.
        """
        for call in calls:
            usage = Usage(call.prompt_tokens, call.completion_tokens, 1)
            if call.error is None and usage.total_tokens == 0:
                usage = Usage()
            with self._lock:
                tally = Tally(usage, self._cost(call.model, usage))
                self._add(call.model, call.stage, call.problem_id, tally)

    def _add(self, model: str, stage: str, problem_id: str | None, tally: Tally) -> None:
        """Add a call's tally to every group; call with the lock held."""
        self._total += tally
        _add(self._by_stage, stage, tally)
        _add(self._by_model, model, tally)
        if problem_id is not None:
            _add(self._by_problem, problem_id, tally)

    def record_cached(self, model: str, usage: Usage, *, stage: str | None = None) -> None:
        """Tally an answer served from the store: what it would have cost, spent nothing."""
        with self._lock:
            tally = Tally(usage, self._cost(model, usage, note=False))
            self._cached += tally
            if stage is not None:
                _add(self._cached_by_stage, stage, tally)

    def record(
        self,
        model: str,
        stage: str,
        problem_id: str | None,
        usage: Usage,
        *,
        cached: bool = False,
    ) -> None:
        """Tally a finished call that went through no admission (the books of one
        problem, kept beside the run's budgeted ledger); ``cached``: from the store."""
        if cached:
            self.record_cached(model, usage, stage=stage)
            return
        with self._lock:
            self._add(model, stage, problem_id, Tally(usage, self._cost(model, usage)))

    def _cost(self, model: str, usage: Usage, *, note: bool = True) -> float:
        """The money ``usage`` costs on ``model``; call with the lock held."""
        price = self.prices.price(model)
        if price is None:
            if note:
                self._unpriced.add(model)
            return 0.0
        return price.cost(usage)

    def report(self) -> LedgerReport:
        with self._lock:
            return LedgerReport(
                total=self._total,
                cached=self._cached,
                by_stage=MappingProxyType(dict(self._by_stage)),
                by_problem=MappingProxyType(dict(self._by_problem)),
                by_model=MappingProxyType(dict(self._by_model)),
                unpriced_models=frozenset(self._unpriced),
                stopped=self.stopped,
                cached_by_stage=MappingProxyType(dict(self._cached_by_stage)),
            )


def _add(groups: dict[str, Tally], name: str, tally: Tally) -> None:
    groups[name] = groups.get(name, Tally()) + tally


class MeteredBackend:
    """A `Backend` that tallies every call in a ledger and enforces its budget.

    For runs without a run store; `StoredBackend` does the same itself, so that answers
    it serves from the store are never refused by a spent budget.
    """

    def __init__(self, backend: Backend, ledger: Ledger) -> None:
        self._backend = backend
        self.ledger = ledger

    @property
    def model(self) -> str:
        return self._backend.model

    async def complete(self, request: CompletionRequest) -> Completion:
        self.ledger.admit(self.model)
        try:
            completion = await self._backend.complete(request)
        except BackendError:
            self.ledger.settle(self.model, request.stage, request.problem_id, Usage(calls=1))
            raise
        except BaseException:
            self.ledger.cancel()
            raise
        # One `complete` is one server call, whatever the backend put in ``calls``.
        usage = replace(completion.usage, calls=1)
        self.ledger.settle(self.model, request.stage, request.problem_id, usage)
        return completion

    async def aclose(self) -> None:
        await self._backend.aclose()
