"""Mutants of the public inputs: valid-looking, within the stated sizes, reproducible."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codestar.pipeline.mutation import Bounds, bounds_of, mutate_inputs
from codestar.problems.model import Problem, ProblemKind, TestCase


def stdin_problem(*inputs: str, statement: str = "") -> Problem:
    return Problem(
        id="p",
        statement=statement,
        kind=ProblemKind.STDIN,
        public_tests=tuple(TestCase(text, "") for text in inputs),
    )


def functional_problem(*inputs: str, statement: str = "") -> Problem:
    return Problem(
        id="f",
        statement=statement,
        kind=ProblemKind.FUNCTIONAL,
        entry_point="f",
        public_tests=tuple(TestCase(text, "0") for text in inputs),
    )


@pytest.mark.parametrize(
    ("statement", "bounds"),
    [
        ("1 <= n <= 10^5", Bounds(values=(1, 100000), lengths=(1, 100000))),
        (
            "1 <= nums.length <= 100\n-10^4 <= nums[i] <= 10^4",
            Bounds(values=(-10000, 10000), lengths=(1, 100)),
        ),
        ("$1 \\le a_i \\le 2 \\cdot 10^9$", Bounds(values=(1, 2 * 10**9))),
        ("1 <= x <= 2 ^ 3 ^ 4", Bounds()),  # not a form we read: no bound rather than 8
        ("0 ≤ k ≤ 2 * 10^5", Bounds(values=(0, 200000))),
        ("No constraints at all.", Bounds()),
    ],
)
def test_bounds_are_read_from_the_statement(statement: str, bounds: Bounds) -> None:
    assert bounds_of(statement) == bounds


def test_mutation_is_reproducible_and_never_repeats_a_public_input() -> None:
    problem = stdin_problem("3\n1 2 3\n", "5\n5 4 3 2 1\n", statement="1 <= n <= 100")
    first = mutate_inputs(problem, count=8, seed=1)
    assert first == mutate_inputs(problem, count=8, seed=1)
    assert len(first) == 8 and len(set(first)) == 8
    assert not {"3\n1 2 3\n", "5\n5 4 3 2 1\n"} & set(first)
    assert mutate_inputs(problem, count=8, seed=2) != first


def test_stdin_counts_follow_the_lines_they_count() -> None:
    problem = stdin_problem("4\n7 1 8 2\n", statement="1 <= n <= 10\n1 <= a_i <= 10^9")
    for mutant in mutate_inputs(problem, count=20):
        count, values = mutant.split("\n")[:2]
        # The count is never nudged on its own; a resize changes both together.
        assert int(count) == len(values.split()), mutant
        assert 1 <= int(count) <= 10


def test_stdin_words_keep_their_length() -> None:
    problem = stdin_problem("5\nhello\n")
    mutants = mutate_inputs(problem, count=10)
    words = [m.split("\n")[1] for m in mutants if m.startswith("5\n")]
    assert words and all(len(word) == 5 for word in words)
    assert any(word != "hello" for word in words)


def test_functional_mutants_keep_the_arguments_and_the_bounds() -> None:
    problem = functional_problem(
        '[3, 1, 2]\n2\n"abc"',
        statement="1 <= nums.length <= 4\n0 <= nums[i], k <= 9",
    )
    mutants = mutate_inputs(problem, count=12)
    assert len(mutants) == 12
    for mutant in mutants:
        nums, k, word = (json.loads(line) for line in mutant.split("\n"))
        assert isinstance(nums, list) and 1 <= len(nums) <= 4
        assert isinstance(k, int) and isinstance(word, str)
        assert all(-9 <= v <= 9 for v in [*nums, k])


def test_no_public_input_no_mutant() -> None:
    assert mutate_inputs(stdin_problem(), count=5) == ()
    assert mutate_inputs(functional_problem("not json"), count=5) == ()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=5),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_JSON, min_size=1, max_size=3), st.integers(0, 5))
def test_functional_mutants_are_json_lines_of_the_same_arity(
    arguments: list[object], seed: int
) -> None:
    text = "\n".join(json.dumps(value) for value in arguments)
    for mutant in mutate_inputs(functional_problem(text), count=4, seed=seed):
        values = [json.loads(line) for line in mutant.split("\n")]
        assert len(values) == len(arguments) and mutant != text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789 -abc\n", max_size=40), st.integers(0, 5))
def test_stdin_mutation_never_raises(text: str, seed: int) -> None:
    for mutant in mutate_inputs(stdin_problem(text), count=3, seed=seed):
        assert mutant.endswith("\n") and mutant != text


def test_functional_mutants_reach_the_boundaries_a_weak_input_writer_misses() -> None:
    # Equal neighbours (monotonic with a tie), a one-element list, the empty string:
    # the cases that separated candidates the model's own inputs could not.
    lists = functional_problem("[1, 2, 4, 20]", "[4, 1, 0, -10]")
    found = [json.loads(m) for m in mutate_inputs(lists, count=60)]
    assert any(any(a == b for a, b in itertools.pairwise(v)) for v in found)
    assert any(len(v) == 1 for v in found)
    strings = functional_problem('"Hello"', '"abcdcba"')
    texts = [json.loads(m) for m in mutate_inputs(strings, count=60)]
    assert "" in texts and any(len(t) == 1 for t in texts)
    # ...unless the statement rules them out.
    bounded = functional_problem('"Hello"', statement="1 <= s.length <= 100")
    assert "" not in [json.loads(m) for m in mutate_inputs(bounded, count=60)]
