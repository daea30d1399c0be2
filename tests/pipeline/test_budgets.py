"""Budgets and books in a solve run: a spent budget stops new model calls cleanly and
the method selects from what finished; usage per stage separates answers from the run
store (free) and, with a price table, says what each stage cost.

A scripted model behind the LLM layer's real `MeteredBackend` / `StoredBackend`, and
the real execution engine. The problem: print the absolute value of n.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from codestar.execution.engine import Engine
from codestar.llm.accounting import Budget, Ledger, MeteredBackend, Price, PriceTable
from codestar.llm.scripted import ScriptedBackend
from codestar.llm.store import RunStore
from codestar.llm.stored import StoredBackend
from codestar.llm.types import CompletionRequest
from codestar.pipeline import Models, SolveConfig, SolveResult, solve
from codestar.problems.model import Problem, ProblemKind, TestCase

WRONG = "n = int(input())\nprint(n)\n"
RIGHT = "n = int(input())\nprint(abs(n))\n"
PROBLEM = Problem(
    id="abs",
    statement="Read an integer n and print its absolute value.",
    kind=ProblemKind.STDIN,
    public_tests=(TestCase("3\n", "3\n"),),
)
CONFIG = SolveConfig(samples=4, rounds=1, inputs=2)


def answer(request: CompletionRequest) -> str:
    if request.stage == "generate":
        return f"```python\n{[WRONG, RIGHT][request.sample_index % 2]}```"
    if request.stage == "inputs":
        return "```\n-5\n```\n```\n7\n```"
    if request.stage == "distinguish":
        return "```\n-2\n```"
    if request.stage == "judge":
        program_a = request.messages[-1].content.split("Program B")[0]
        return "Answer: A" if "abs(" in program_a else "Answer: B"
    raise AssertionError(f"unexpected stage {request.stage}")


def run(
    engine: Engine,
    backend: ScriptedBackend | MeteredBackend | StoredBackend,
    prices: PriceTable | None = None,
) -> SolveResult:
    return asyncio.run(
        solve(PROBLEM, "sstar", models=Models(backend), engine=engine, config=CONFIG, prices=prices)
    )


def test_without_a_budget_sstar_judges_and_picks_the_right_cluster(engine: Engine) -> None:
    result = run(engine, ScriptedBackend(answer))
    assert result.stopped is None and result.program == RIGHT.strip()
    assert result.selection.rule == "weighted-wins"
    assert result.comparisons[0].winner is not None


def test_a_spent_call_budget_leaves_comparisons_undecided(engine: Engine) -> None:
    scripted = ScriptedBackend(answer)
    ledger = Ledger(budget=Budget(max_calls=5))  # the 4 samples and the inputs
    result = run(engine, MeteredBackend(scripted, ledger))
    assert len(scripted.requests) == 5
    assert result.stopped is not None and result.stopped.startswith("call budget spent")
    assert ledger.stopped is not None and result.stopped.startswith(ledger.stopped)
    # Everything that finished is there; the pair never compared has no winner, so
    # Algorithm 1 falls back to cluster size, then the seeded random choice.
    assert all(len(c.rounds) == 1 for c in result.candidates)
    assert [c.members for c in result.clusters] == [(0, 2), (1, 3)]
    (comparison,) = result.comparisons
    assert comparison.winner is None and comparison.judgements == ("", "")
    assert result.program in (WRONG.strip(), RIGHT.strip())
    assert result.to_dict()["stopped"] == result.stopped


def test_a_budget_spent_during_sampling_keeps_the_finished_samples(engine: Engine) -> None:
    scripted = ScriptedBackend(answer)
    result = run(engine, MeteredBackend(scripted, Ledger(budget=Budget(max_calls=3))))
    assert len(scripted.requests) == 3
    drawn = [c for c in result.candidates if c.rounds]
    assert len(result.candidates) == 4 and len(drawn) == 2  # the inputs took one call
    assert all(not c.rounds and c.code is None for c in result.candidates if c not in drawn)
    assert result.program is not None and result.stopped is not None


def test_usage_counts_store_answers_apart_and_prices_them_at_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    prices = PriceTable({"scripted": Price(1_000_000.0, 0.0)})  # one unit per prompt token
    with RunStore(tmp_path) as store:
        first = run(engine, StoredBackend(ScriptedBackend(answer), store), prices)
        again = run(engine, StoredBackend(ScriptedBackend(answer), store), prices)
    assert first.cost is not None and again.cost is not None
    for stage, usage in first.usage.items():
        assert first.cached.get(stage) is None
        assert first.cost[stage] == pytest.approx(usage.prompt_tokens)
        assert again.usage[stage] == usage and again.cached[stage] == usage
        assert again.cost.get(stage, 0.0) == 0.0
    trace = again.to_dict()
    judge = trace["usage"]["judge"]
    assert judge["cached_calls"] == judge["calls"] == 2 and judge["cost"] == 0.0
    assert trace["total_usage"]["cached_calls"] == trace["total_usage"]["calls"]
    assert run(engine, ScriptedBackend(answer)).to_dict()["usage"]["judge"].get("cost") is None
