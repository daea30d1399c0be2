"""The grading rule: does a program's output count as the expected output?

This is LiveCodeBench's rule, restated (see ``docs/grading.md`` for worked examples):

* **stdin** - both outputs are stripped and split on ``"\\n"``; every line is stripped.
  The line counts must match, and each pair of lines must be equal as text, or else
  split on whitespace into tokens that are all decimal numbers and equal as exact
  decimals (``"1.0"`` matches ``"1"``, ``"1e2"`` matches ``"100"``, ``"0.1"`` does not
  match ``"0.1000001"``).
* **functional** - both outputs are JSON texts; they match when the parsed values are
  equal (Python equality, so ``1`` equals ``1.0`` and, as in LiveCodeBench, ``true``
  equals ``1``).

``GradingRule.float_tolerance`` opts in to comparing numbers within an absolute *or*
relative tolerance (``math.isclose``), or, with ``relative_tolerance`` too, within
``float_tolerance + relative_tolerance * |expected|`` (NumPy's ``allclose``, EvalPlus's
rule); in stdin mode a line then matches token by token, each pair equal as text or
both numbers within tolerance. ``GradingRule.unordered`` compares a functional list
result with the expected list as sets.

The functions never raise on garbage: output that cannot be read is a mismatch. They do
not run programs or decide verdicts other than right versus wrong; that is the engine's
job. They are called once per test in the hot loop, so text equality is tried before
any parsing.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from codestar.execution.types import GradingRule
from codestar.problems.model import ProblemKind

__all__ = ["functional_outputs_match", "outputs_match", "stdin_outputs_match"]

_DEFAULT_RULE = GradingRule()

# Only plain finite decimal literals count as numbers. Decimal() itself also accepts
# "1_000", "Infinity", "nan" and non-ASCII digits; treating those as numbers would let
# "1_0" match "10", which no judge intends. Every quantifier is possessive, so matching
# is linear: the backtracking form took 12 s on a 20,000-digit token ending in "x".
_NUMBER = re.compile(r"[+-]?+(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++)(?:[eE][+-]?+[0-9]++)?+")

# Python refuses to parse integers longer than this many digits (CVE-2020-10735 guard);
# longer JSON integers are read as exact decimals instead, which compare equal to ints.
_LONG_INT_DIGITS = 4000


def outputs_match(
    kind: ProblemKind, actual: str, expected: str, rule: GradingRule = _DEFAULT_RULE
) -> bool:
    """True when ``actual`` counts as ``expected`` for a problem of this kind.

    >>> outputs_match(ProblemKind.STDIN, "3.0\\n", "3")
    True
    """
    if kind is ProblemKind.FUNCTIONAL:
        return functional_outputs_match(actual, expected, rule)
    return stdin_outputs_match(actual, expected, rule)


def stdin_outputs_match(actual: str, expected: str, rule: GradingRule = _DEFAULT_RULE) -> bool:
    """Compare two program outputs line by line (see the module docstring).

    >>> stdin_outputs_match("1 2.50 \\n", "1 2.5")
    True
    """
    if actual == expected:
        return True
    actual = actual.strip()
    expected = expected.strip()
    if actual == expected:  # the usual case: only a trailing newline differed
        return True
    actual_lines = actual.split("\n")
    expected_lines = expected.split("\n")
    if len(actual_lines) != len(expected_lines):
        return False
    exact = rule.float_tolerance is None
    for actual_line, expected_line in zip(actual_lines, expected_lines, strict=True):
        actual_line = actual_line.strip()
        expected_line = expected_line.strip()
        if actual_line == expected_line:
            continue
        if exact:
            if not _lines_equal_as_decimals(actual_line, expected_line):
                return False
        elif not _lines_close(actual_line, expected_line, rule):
            return False
    return True


def functional_outputs_match(actual: str, expected: str, rule: GradingRule = _DEFAULT_RULE) -> bool:
    """Compare two JSON texts as values (see the module docstring).

    >>> functional_outputs_match("[1, 2.0]", "[1,2]")
    True
    """
    actual_value = _parse_json(actual)
    expected_value = _parse_json(expected)
    if actual_value is _UNREADABLE or expected_value is _UNREADABLE:
        return False
    try:
        if rule.unordered and isinstance(actual_value, list) and isinstance(expected_value, list):
            return _as_set(actual_value) == _as_set(expected_value)
        if rule.float_tolerance is None:
            return bool(actual_value == expected_value)
        return _values_close(actual_value, expected_value, rule)
    except RecursionError:
        # A value nested deeper than the interpreter can compare is garbage, not a crash.
        return False


def _as_set(values: list[Any]) -> set[str]:
    """A list's elements as a set, each by its canonical JSON (1 and 1.0 are one element)."""
    return {
        json.dumps(float(v) if _is_number(v) else v, sort_keys=True, default=str) for v in values
    }


def _parse_decimal(token: str) -> Decimal | None:
    if _NUMBER.fullmatch(token) is None:
        return None
    try:
        return Decimal(token)
    except (InvalidOperation, ValueError):
        # An exponent beyond what the decimal module can hold.
        return None


def _lines_equal_as_decimals(actual_line: str, expected_line: str) -> bool:
    actual_tokens = actual_line.split()
    expected_tokens = expected_line.split()
    if len(actual_tokens) != len(expected_tokens):
        return False
    for actual_token, expected_token in zip(actual_tokens, expected_tokens, strict=True):
        actual_number = _parse_decimal(actual_token)
        expected_number = _parse_decimal(expected_token)
        if actual_number is None or expected_number is None:
            return False
        if actual_number != expected_number:
            return False
    return True


def _numbers_close(actual: Decimal, expected: Decimal, rule: GradingRule) -> bool:
    if actual == expected:
        return True
    actual_float = float(actual)
    expected_float = float(expected)
    # Beyond float range both become inf and isclose would call them equal.
    if not (math.isfinite(actual_float) and math.isfinite(expected_float)):
        return False
    absolute = rule.float_tolerance or 0.0
    if rule.relative_tolerance is None:
        return math.isclose(actual_float, expected_float, rel_tol=absolute, abs_tol=absolute)
    bound = absolute + rule.relative_tolerance * abs(expected_float)
    return abs(actual_float - expected_float) <= bound


def _lines_close(actual_line: str, expected_line: str, rule: GradingRule) -> bool:
    actual_tokens = actual_line.split()
    expected_tokens = expected_line.split()
    if len(actual_tokens) != len(expected_tokens):
        return False
    for actual_token, expected_token in zip(actual_tokens, expected_tokens, strict=True):
        if actual_token == expected_token:
            continue
        actual_number = _parse_decimal(actual_token)
        expected_number = _parse_decimal(expected_token)
        if actual_number is None or expected_number is None:
            return False
        if not _numbers_close(actual_number, expected_number, rule):
            return False
    return True


_UNREADABLE = object()


def _parse_int(text: str) -> int | Decimal:
    return int(text) if len(text) < _LONG_INT_DIGITS else Decimal(text)


def _parse_json(text: str) -> Any:
    # The C parser first; only integers too long for int() need the Python hook.
    try:
        return json.loads(text)
    except ValueError:
        pass
    except RecursionError:
        return _UNREADABLE
    try:
        return json.loads(text, parse_int=_parse_int)
    except (ValueError, RecursionError, ArithmeticError):
        return _UNREADABLE


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _values_close(actual: Any, expected: Any, rule: GradingRule) -> bool:
    if _is_number(actual) and _is_number(expected):
        if actual == expected:
            return True
        if isinstance(actual, float) or isinstance(expected, float):
            try:
                return _numbers_close(Decimal(actual), Decimal(expected), rule)
            except (ValueError, ArithmeticError):
                # NaN or infinity on one side: only plain equality (already false) counts.
                return False
        return False
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(
            _values_close(a, e, rule) for a, e in zip(actual, expected, strict=True)
        )
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(
            _values_close(actual[key], expected[key], rule) for key in actual
        )
    return bool(actual == expected)
