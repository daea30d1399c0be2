"""The grading rule: LiveCodeBench-compatible line/decimal comparison and JSON values."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codestar.execution.engine import Engine
from codestar.execution.grading import (
    functional_outputs_match,
    outputs_match,
    stdin_outputs_match,
)
from codestar.execution.types import GradingRule, Limits, Program
from codestar.problems.livecodebench import load_livecodebench
from codestar.problems.model import ProblemKind

TOLERANT = GradingRule(float_tolerance=1e-6)


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("3\n", "3"),
        ("  YES \r\nNO\r\n", "YES\nNO\n"),
        ("1.0", "1"),
        ("1e2", "100"),
        ("-0", "0"),
        ("1  2   3", "1 2 3"),
        ("0.50 +2", ".5 2"),
        ("1.\n", "1"),
        ("", ""),
        ("\n\n", ""),
        ("a b\n\n3.000", "a b\n\n3"),
    ],
)
def test_stdin_matches(actual: str, expected: str) -> None:
    assert stdin_outputs_match(actual, expected)
    assert outputs_match(ProblemKind.STDIN, actual, expected)


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("3", "4"),
        ("0.1", "0.1000001"),
        ("YES", "yes"),
        ("1\n2", "1 2"),
        ("1\n\n2", "1\n2"),
        ("1 2", "1 2 3"),
        ("YES 1.0", "YES 1"),  # LiveCodeBench: a line with a word is compared as text
        ("a  b", "a b"),
        ("1_0", "10"),
        ("inf", "Infinity"),
        ("nan", "NaN"),
        ("", "0"),
        ("1e99999999999999999999", "1"),
        ("\u0661", "1"),  # an Arabic-Indic digit is not a decimal number here
    ],
)
def test_stdin_mismatches(actual: str, expected: str) -> None:
    assert not stdin_outputs_match(actual, expected)


def test_identical_text_matches_even_when_not_numeric() -> None:
    assert stdin_outputs_match("nan", "nan")
    assert stdin_outputs_match("inf", "inf")


def test_stdin_tolerance_is_opt_in_and_per_token() -> None:
    assert not stdin_outputs_match("0.3333333", "0.33333333")
    assert stdin_outputs_match("0.3333333", "0.33333333", TOLERANT)
    assert stdin_outputs_match("Case #1: 2.0000001", "Case #1: 2", TOLERANT)
    assert not stdin_outputs_match("Case #1: 2.1", "Case #1: 2", TOLERANT)
    assert not stdin_outputs_match("Case #2: 2", "Case #1: 2", TOLERANT)
    assert stdin_outputs_match("1000000.5", "1000000", GradingRule(float_tolerance=1e-6))
    assert not stdin_outputs_match("1e400", "2e400", TOLERANT)  # both overflow a float


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("[1, 2]", "[1,2]"),
        ("2.0", "2"),
        ("true", "1"),  # Python equality, as in LiveCodeBench
        ('{"a": [1, "x"]}', '{ "a" : [1.0, "x"] }'),
        ("null", "null"),
        ("1" * 5000, "1" * 5000),  # longer than Python's int-parsing limit
    ],
)
def test_functional_matches(actual: str, expected: str) -> None:
    assert functional_outputs_match(actual, expected)
    assert outputs_match(ProblemKind.FUNCTIONAL, actual, expected)


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("[1, 2]", "[2, 1]"),
        ("0.30000000000000004", "0.3"),
        ('"1"', "1"),
        ("not json", "not json"),
        ("", ""),
        ("[1,", "[1]"),
        ("[" * 100_000 + "]" * 100_000, "[" * 100_000 + "]" * 100_000),
        ("NaN", "NaN"),
        ("1" * 5000, "1" * 4999 + "2"),
    ],
)
def test_functional_mismatches(actual: str, expected: str) -> None:
    assert not functional_outputs_match(actual, expected)


def test_functional_tolerance() -> None:
    assert functional_outputs_match("0.30000000000000004", "0.3", TOLERANT)
    assert functional_outputs_match(
        '[[0.1, 2], {"k": 3.0000001}]', '[[0.1, 2], {"k": 3}]', TOLERANT
    )
    assert not functional_outputs_match("[0.1, 2]", "[0.1, 2, 3]", TOLERANT)
    assert not functional_outputs_match('{"a": 1}', '{"b": 1}', TOLERANT)
    assert not functional_outputs_match("2", "3", TOLERANT)  # integers stay exact
    assert not functional_outputs_match("Infinity", "1e308", TOLERANT)
    assert not functional_outputs_match("NaN", "NaN", TOLERANT)
    assert not functional_outputs_match("[1.0]", "1.0", TOLERANT)


def test_an_absolute_and_a_relative_tolerance_follow_numpys_allclose() -> None:
    allclose = GradingRule(float_tolerance=1e-4, relative_tolerance=1e-7)
    # |a - e| <= 1e-4 + 1e-7 * |e|: the absolute part dominates for small values...
    assert functional_outputs_match("62.8318", "62.83", allclose) is False  # off by 1.8e-3
    assert functional_outputs_match("62.83005", "62.83", allclose)
    assert stdin_outputs_match("1.00009", "1", allclose)
    assert not stdin_outputs_match("1.0002", "1", allclose)
    # ...the relative part for large ones; one tolerance as both would accept far more.
    assert functional_outputs_match("1000000.05", "1000000", allclose)  # 1e-4 + 0.1
    assert not functional_outputs_match("1000000.5", "1000000", allclose)
    assert functional_outputs_match("1000000.5", "1000000", GradingRule(float_tolerance=1e-4))
    with pytest.raises(ValueError, match="needs float_tolerance"):
        GradingRule(relative_tolerance=1e-7)
    with pytest.raises(ValueError, match="finite"):
        GradingRule(float_tolerance=float("nan"))


def test_an_unordered_rule_compares_list_results_as_sets() -> None:
    unordered = GradingRule(unordered=True)
    assert functional_outputs_match("[3, 1, 2]", "[1, 2, 3]", unordered)
    assert functional_outputs_match("[1, 1, 2]", "[2, 1]", unordered)  # sets, as EvalPlus
    assert functional_outputs_match('[[1, "a"], 2.0]', '[2, [1, "a"]]', unordered)
    assert not functional_outputs_match("[1, 2]", "[1, 2, 3]", unordered)
    assert not functional_outputs_match("[3, 1, 2]", "[1, 2, 3]")  # in order by default
    assert not functional_outputs_match("3", "[3]", unordered)


def test_equal_lines_skip_decimal_work() -> None:
    # 200,000 equal lines plus one numeric difference: fast because only one line parses.
    lines = "\n".join(str(i) for i in range(200_000))
    started = time.perf_counter()
    assert stdin_outputs_match(lines + "\n1.0", lines + "\n1")
    assert time.perf_counter() - started < 2.0


# --- properties ----------------------------------------------------------------------

_texts = st.text(alphabet=st.sampled_from("0123456789.-+eE \n\tabYESNO\r"), max_size=40) | st.text(
    max_size=40
)


@given(_texts, _texts)
def test_stdin_rule_is_symmetric_and_total(actual: str, expected: str) -> None:
    result = stdin_outputs_match(actual, expected)
    assert result == stdin_outputs_match(expected, actual)
    assert stdin_outputs_match(actual, expected, TOLERANT) == stdin_outputs_match(
        expected, actual, TOLERANT
    )


@given(_texts)
def test_stdin_rule_is_reflexive_and_ignores_outer_whitespace(text: str) -> None:
    assert stdin_outputs_match(text, text)
    assert stdin_outputs_match(" \n" + text + "\n  \n", text)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
def test_any_spelling_of_a_decimal_matches(number: Decimal) -> None:
    assert stdin_outputs_match(f"{number:f}", str(number))
    assert stdin_outputs_match(f"{number:e}", f"{number:f}")


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=12,
)


@given(_json_values, _json_values)
def test_functional_rule_is_symmetric(first: object, second: object) -> None:
    a, b = json.dumps(first), json.dumps(second)
    assert functional_outputs_match(a, b) == functional_outputs_match(b, a)
    assert functional_outputs_match(a, b, TOLERANT) == functional_outputs_match(b, a, TOLERANT)


@given(_json_values)
def test_functional_rule_is_reflexive_across_formatting(value: object) -> None:
    compact = json.dumps(value, separators=(",", ":"))
    spaced = json.dumps(value, indent=2)
    assert functional_outputs_match(compact, spaced)
    assert functional_outputs_match(compact, spaced, TOLERANT)


@given(st.text(max_size=30), _texts)
def test_functional_rule_never_raises(actual: str, expected: str) -> None:
    functional_outputs_match(actual, expected)
    functional_outputs_match(actual, expected, TOLERANT)


def test_agrees_with_recorded_judgments_of_real_solutions(
    shared_data: Path, engine: Engine
) -> None:
    """Real LLM-written programs, run for real, judged as another harness judged them.

    Every 8th problem of release v1 (stdin and functional); the two solutions that need
    seconds of CPU are left out to keep this fast.
    """
    problems = {
        p.id: p for p in load_livecodebench(shared_data / "lcb_release_v1_public.jsonl").problems
    }
    with (shared_data / "lcb_v1_gpt-4o-mini_solutions.jsonl").open() as lines:
        solutions = [json.loads(line) for line in lines][::8]
    chosen = [s for s in solutions if s["task_id"] not in {"abc311_e", "abc328_e"}]
    futures = [
        engine.submit(
            Program.for_problem(s["solution"], problems[s["task_id"]]),
            problems[s["task_id"]].public_tests,
            limits=Limits(timeout_s=4.0, memory_mb=512),
        )
        for s in chosen
    ]
    verdicts = {s["task_id"]: f.result().passed for s, f in zip(chosen, futures, strict=True)}
    expected = {s["task_id"]: s["passing_public_tests"] for s in chosen}
    assert {True, False} <= set(expected.values())
    assert any(problems[t].kind is ProblemKind.FUNCTIONAL for t in expected)
    assert verdicts == expected
