"""Find the example calls of a function in a prompt: the natural public tests.

HumanEval-style prompts show examples in their docstring in several dialects: a doctest
line (``>>> add(2, 3)`` with ``5`` below it), or one line such as::

    add(2, 3) == 5
    add(2, 3) ➞ 5
    add(2, 3) => 5

All of them contain the call ``add(2, 3)``. This module finds every call of the entry
point whose arguments are Python literals (read with ``ast.literal_eval``, never
``eval``) and turns it into a functional test input: one JSON value per argument, one
per line. Prompts without calls often say the arguments in words, and those lines are
read too::

    For a = 2, b = 3 the output should be 5
    Input: [4, 2, 3]

(the text after ``For`` or ``Input:`` up to ``the``, ``=>``, ``->`` or ``Output``, as
``name = value`` pairs or bare values); such an example counts only when it has as many
arguments as the function takes.

It does not read the example's claimed output; docstrings are sometimes wrong, so the
expected output comes from running the reference solution (`codestar.evaluation.prepare`).

Calls with keyword arguments, starred arguments or non-literal arguments (``f(x)``,
``f([1] * 3)``) are skipped, as are the function's own ``def`` line and calls of other
functions that merely end in the same name.
"""

from __future__ import annotations

import ast
import json
import math
import re
from typing import Any

from codestar.problems.entrypoint import find_entry_point
from codestar.problems.model import TestCase

__all__ = ["arguments_input", "example_calls", "example_tests"]


def example_calls(prompt: str, entry_point: str) -> tuple[tuple[Any, ...], ...]:
    """The literal argument tuples of each distinct call of ``entry_point`` in ``prompt``.

    >>> example_calls('def f(x):\\n    \"\"\"\\n    >>> f([1, 2])\\n    3\\n    \"\"\"', "f")
    (([1, 2],),)
    """
    start = re.compile(rf"(?<![\w.]){re.escape(entry_point)}\s*\(")
    found: list[tuple[Any, ...]] = []
    seen: set[str] = set()

    def keep(arguments: tuple[Any, ...] | None) -> None:
        key = None if arguments is None else arguments_input(arguments)
        if arguments is not None and key is not None and key not in seen:
            seen.add(key)
            found.append(arguments)

    entry = find_entry_point(prompt, entry_point)
    for match in start.finditer(prompt):
        if not re.search(r"\bdef\s+$", prompt[: match.start()]):
            arguments = _call_at(prompt, match.start(), match.end() - 1)
            # Prose names the function too ("write next_smallest() that ..."): a call
            # with no or too many arguments is not an example.
            if arguments is not None and (
                entry is None or 0 < len(arguments) <= entry.arity or entry.arity == 0
            ):
                keep(arguments)
    if not found:
        for match in _WORDED.finditer(prompt):
            arguments = _worded_arguments(match.group(1))
            if arguments and entry is not None and len(arguments) == entry.arity:
                keep(arguments)
    return tuple(found)


def example_tests(prompt: str, entry_point: str) -> tuple[TestCase, ...]:
    """The example calls as tests whose expected output is still unknown (``None``)."""
    tests = []
    for arguments in example_calls(prompt, entry_point):
        text = arguments_input(arguments)
        if text is not None:
            tests.append(TestCase(input=text, expected=None))
    return tuple(tests)


def arguments_input(arguments: tuple[Any, ...] | list[Any]) -> str | None:
    """A functional test input for these arguments, or ``None`` if one is not JSON.

    >>> arguments_input((1, "a\\nb", [2.5]))
    '1\\n"a\\\\nb"\\n[2.5]'
    """
    lines = []
    for argument in arguments:
        if not _json_safe(argument):
            return None
        lines.append(json.dumps(argument))
    return "\n".join(lines)


def _json_safe(value: Any) -> bool:
    """True when JSON can carry ``value`` there and back as an equal value (tuples become
    lists, which the harness passes as lists)."""
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(_json_safe(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _json_safe(item) for key, item in value.items())
    return False


_WORDED = re.compile(r"(?:\bFor\b|\bInput:)[ \t]*(.+)$", re.MULTILINE)
_WORDED_END = re.compile(r"\s(?:the|=>|->|Output)\b|\s(?:=>|->|➞)")


def _worded_arguments(text: str) -> tuple[Any, ...] | None:
    """``'s = "ab", c = "a", the result'`` -> ``("ab", "a")``; ``'[4,2,3]'`` -> ``([4, 2, 3],)``."""
    end = _WORDED_END.search(text)
    text = (text[: end.start()] if end else text).strip().rstrip(",.;:")
    if not text:
        return None
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not isinstance(call, ast.Call) or (call.args and call.keywords):
        return None
    try:
        nodes = call.args or [keyword.value for keyword in call.keywords]
        return tuple(ast.literal_eval(node) for node in nodes)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return None


def _call_at(text: str, start: int, open_paren: int) -> tuple[Any, ...] | None:
    """The literal arguments of the call that starts at ``start``, if it is one."""
    position = open_paren
    while True:
        position = text.find(")", position + 1)
        if position < 0:
            return None
        candidate = text[start : position + 1]
        if candidate.count("\n") > 20:
            return None
        try:
            tree = ast.parse(candidate, mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        call = tree.body
        if not isinstance(call, ast.Call) or call.keywords:
            return None
        try:
            return tuple(ast.literal_eval(argument) for argument in call.args)
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            return None
