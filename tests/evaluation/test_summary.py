"""The summary's numbers from hand-made rows: rates, intervals, pairs, the random pick."""

from __future__ import annotations

import math

import pytest

from codestar.evaluation.results import ResultRow
from codestar.evaluation.summary import summarize, wilson_interval


def row(problem: str, method: str, passed: bool | None, **fields: object) -> ResultRow:
    hidden = 0 if passed is None else 3
    return ResultRow(
        problem_id=problem, method=method, passed=passed, hidden_tests=hidden, **fields
    )  # type: ignore[arg-type]


def test_wilson_interval_is_inside_zero_one_and_brackets_the_rate() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and 0 < high < 0.35
    low, high = wilson_interval(10, 10)
    assert 0.65 < low < 1 and math.isclose(high, 1.0)
    low, high = wilson_interval(8, 10)
    assert low < 0.8 < high


def test_problems_without_hidden_tests_are_listed_and_left_out_of_every_rate() -> None:
    rows = [row("a", "sstar", True), row("b", "sstar", False), row("c", "sstar", None)]
    summary = summarize(rows)
    sstar = summary.method("sstar")
    assert (sstar.pass_at_1.passed, sstar.pass_at_1.graded) == (1, 2)
    assert summary.no_hidden_tests == ("c",)
    assert summary.to_dict()["methods"]["sstar"]["pass_at_1"]["rate"] == 0.5


def test_paired_counts_the_first_method_against_each_other() -> None:
    rows = [
        row("a", "sstar", True), row("a", "zero-shot", False),
        row("b", "sstar", False), row("b", "zero-shot", True),
        row("c", "sstar", True), row("c", "zero-shot", True),
        row("d", "sstar", False), row("d", "zero-shot", False),
        row("e", "sstar", None), row("e", "zero-shot", None),
    ]  # fmt: skip
    (pair,) = summarize(rows, ["sstar", "zero-shot"]).paired
    assert (pair.first_only, pair.second_only, pair.both, pair.neither) == (("a",), ("b",), 1, 1)


def test_random_pick_is_the_chance_of_a_uniform_public_passing_pick() -> None:
    # 3 of 4 candidates pass the public tests and 2 of those the hidden ones: 2/3.
    some = row(
        "a", "sstar", True, pool_size=4, pool_passed=3, public_pool_passed=2,
        candidates_passing_public=3,
    )  # fmt: skip
    assert some.random_pick == pytest.approx(2 / 3)
    # None passes the public tests: a uniform pick among all 4, 1 of which passes.
    none_public = row(
        "b", "sstar", False, pool_size=4, pool_passed=1, public_pool_passed=0,
        candidates_passing_public=0,
    )  # fmt: skip
    assert none_public.random_pick == pytest.approx(1 / 4)
    ungraded_pool = row("c", "sstar", True)
    assert ungraded_pool.random_pick is None
    pick = summarize([some, none_public, ungraded_pool]).method("sstar").random_pick
    assert pick.graded == 2 and pick.passed == pytest.approx(2 / 3 + 1 / 4)
    assert pick.to_dict()["expected_passed"] == pytest.approx(0.917)
