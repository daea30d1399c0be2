"""Grading and digests take linear time, whatever a program prints.

The regular expressions they used to rely on backtracked: a 20,000-digit token ending in
a letter took 12 s to compare, and a run of 40,000 spaces 3 s to hash. Each test here
takes hundreds of kilobytes of such output and a budget a linear scan meets many times
over; the property tests check that the linear forms decide exactly what the
backtracking ones did.
"""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codestar.execution.engine import Engine
from codestar.execution.grading import _NUMBER, stdin_outputs_match
from codestar.execution.types import GradingRule, Limits, Program, Verdict
from codestar.execution.verdicts import digest, normalize_lines
from codestar.problems.model import TestCase

#: The forms used before; kept here only as the specification of what must not change.
BACKTRACKING_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
BACKTRACKING_LINE_BREAK = re.compile(rb"[ \t\r\f\v]*\n[ \t\r\f\v]*")

SIZE = 400_000
PATHOLOGICAL = {
    "digits-then-letter": ("1" * SIZE + "x", "1"),
    "digits-then-dot-letter": ("9" * SIZE + ".5e", "9"),
    "exponent-digits": ("1e" + "7" * SIZE + "z", "1"),
    "spaces-without-break": ("a" + " " * SIZE + "b", "a b"),
    "spaces-around-breaks": ((" " * 1000 + "\n") * 400 + "x", "x"),
    "many-tokens": ("1 " * SIZE, "1"),
    "many-lines": ("7\n" * SIZE, "7"),
}


@given(st.text(alphabet="0123456789.eE+-x_ ", max_size=12))
def test_the_possessive_number_pattern_accepts_what_the_old_one_did(token: str) -> None:
    assert bool(_NUMBER.fullmatch(token)) == bool(BACKTRACKING_NUMBER.fullmatch(token))


@given(st.binary(max_size=40) | st.text(alphabet=" \t\r\n\f\va1", max_size=40).map(str.encode))
def test_line_normalization_equals_the_old_substitution(data: bytes) -> None:
    assert normalize_lines(data) == BACKTRACKING_LINE_BREAK.sub(b"\n", data.strip())


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_grading_and_digests_are_linear(name: str) -> None:
    actual, expected = PATHOLOGICAL[name]
    started = time.perf_counter()
    for rule in (GradingRule(), GradingRule(float_tolerance=1e-6)):
        stdin_outputs_match(actual, expected, rule)
        stdin_outputs_match(expected, actual, rule)
    digest("stdin", actual.encode())
    assert time.perf_counter() - started < 2.0, f"{name} took too long"


def test_a_program_printing_a_pathological_output_gets_its_verdict_at_once(
    engine: Engine,
) -> None:
    programs = [
        Program("print('1' * 300_000 + 'x')"),
        Program("print('a' + ' ' * 300_000 + 'b')"),
    ]
    started = time.monotonic()
    results = engine.run_many(
        [(program, [TestCase("", "1"), TestCase("", "a b")]) for program in programs],
        limits=Limits(timeout_s=5.0, memory_mb=512),
    )
    assert time.monotonic() - started < 10
    assert [[o.verdict for o in r.outcomes] for r in results] == [[Verdict.WRONG_ANSWER] * 2] * 2
    assert results[0].outcomes[0].output_digest != results[1].outcomes[0].output_digest
