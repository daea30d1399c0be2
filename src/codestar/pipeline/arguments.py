"""Reading one functional test input: argument values as a model wrote them.

LiveCodeBench's format, which the prompts ask for, is one JSON value per argument and
line. Models also write Python literals (``True``, ``None``, ``'text'``, tuples),
``name = value`` lines, ``nums = [1, 2], target = 3`` on one line, calls such as
``twoSum([1, 2], 3)``, or one object naming every parameter. `read_arguments` tries
each in turn and returns plain values; `encode_arguments` writes them back as JSON
lines. `signature_parameters` reads parameter names from starter code.

What this module deliberately does not do: split an answer into inputs (see
`codestar.pipeline.inputs`) or run anything; values are read with `json` and
`ast.literal_eval` only, never evaluated.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Callable, Sequence
from typing import Any


def signature_parameters(code: str, name: str) -> tuple[str, ...] | None:
    """The parameter names of function ``name`` in ``code`` (without ``self``), or None.

    Works on starter code whose body is empty, since only the header is read.

    >>> signature_parameters("class Solution:\\n    def f(self, a: List[int], b=2) -> int:\\n", "f")
    ('a', 'b')
    """
    match = re.search(rf"\bdef\s+{re.escape(name)}\s*\(", code)
    if match is None:
        return None
    depth, end = 1, match.end()
    while end < len(code) and depth:
        depth += {"(": 1, ")": -1}.get(code[end], 0)
        end += 1
    if depth:
        return None
    tree = _parse(f"def _({code[match.end() : end - 1]}): pass")
    if tree is None or not isinstance(tree.body[0], ast.FunctionDef):
        return None
    arguments = tree.body[0].args
    names = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    return tuple(names)


def read_arguments(
    chunk: str, *, arity: int | None, parameters: Sequence[str] | None
) -> list[Any] | None:
    """The argument values of one functional input, trying each accepted style in turn.

    ``arity`` (when given) is the number of values required; ``parameters`` orders
    named values. None when no style gives a fitting list.

    >>> read_arguments("nums = [1, 2], target = 3", arity=2, parameters=None)
    [[1, 2], 3]
    """
    if not chunk:
        return None
    strategies: list[Callable[[], list[Any] | None]] = [
        lambda: _json_stream(chunk),
        lambda: _per_line(chunk, parameters),
        lambda: _python_arguments(chunk, parameters),
    ]
    if arity == 1:
        strategies.append(lambda: _single_value(chunk))
    for strategy in strategies:
        try:
            values = strategy()
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, OverflowError):
            continue
        if values and len(values) == 1 and _keyed_by(values[0], parameters):
            # {"nums": [1, 2], "target": 3}: one object naming every parameter.
            values = [values[0][name] for name in parameters or ()]
        if values and (arity is None or len(values) == arity):
            return values
    return None


def _keyed_by(value: Any, parameters: Sequence[str] | None) -> bool:
    return bool(parameters) and isinstance(value, dict) and set(value) == set(parameters or ())


def _json_stream(chunk: str) -> list[Any] | None:
    """Whitespace-separated JSON values (pretty-printed multi-line values included)."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    position = 0
    while True:
        while position < len(chunk) and chunk[position].isspace():
            position += 1
        if position == len(chunk):
            return values
        value, position = decoder.raw_decode(chunk, position)
        values.append(value)


def _per_line(chunk: str, parameters: Sequence[str] | None) -> list[Any] | None:
    """One value per line: JSON, a Python literal, or ``name = value``."""
    named: list[tuple[str | None, Any]] = []
    for line in chunk.split("\n"):
        line = line.strip().rstrip(",;")
        if not line:
            continue
        name, _, rest = line.partition("=")
        if rest and name.strip().isidentifier() and not rest.startswith("="):
            named.append((name.strip(), _literal(rest.strip())))
        else:
            named.append((None, _literal(line)))
    return _order(named, parameters)


def _python_arguments(chunk: str, parameters: Sequence[str] | None) -> list[Any] | None:
    """A call ``f(1, b=2)``, ``a = 1, b = 2`` on one line, or assignment statements."""
    text = chunk.strip().rstrip(";")
    tree = _parse(text)
    if tree is None:
        tree = _parse(f"_({text})")  # "nums = [1, 2], target = 3"
    if tree is None:
        return None
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
        node = tree.body[0].value
        if isinstance(node, ast.Call):
            return call_arguments(node, parameters)
        if isinstance(node, ast.Tuple):
            return [ast.literal_eval(element) for element in node.elts]
    assigned: list[tuple[str | None, Any]] = []
    for statement in tree.body:
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            return None
        assigned.append((statement.targets[0].id, ast.literal_eval(statement.value)))
    return _order(assigned, parameters)


def _single_value(chunk: str) -> list[Any] | None:
    return [_literal(chunk)]


def call_arguments(call: ast.Call, parameters: Sequence[str] | None) -> list[Any]:
    """The literal arguments of a call, keywords in parameter order when known.

    Raises ValueError (or TypeError, SyntaxError) when an argument is not a literal or a
    keyword names no parameter.
    """
    named: list[tuple[str | None, Any]] = [(None, ast.literal_eval(a)) for a in call.args]
    named += [(kw.arg, ast.literal_eval(kw.value)) for kw in call.keywords]
    return _order(named, parameters)


def encode_arguments(values: Sequence[Any]) -> str | None:
    """LiveCodeBench's input format: one JSON value per line; None if one cannot be JSON.

    >>> encode_arguments([[1, 2], True, "a"])
    '[1, 2]\\ntrue\\n"a"'
    """
    encoded = [to_json(value) for value in values]
    if any(item is None for item in encoded):
        return None
    return "\n".join(item for item in encoded if item is not None)


def _order(named: list[tuple[str | None, Any]], parameters: Sequence[str] | None) -> list[Any]:
    """Values in parameter order when every value is named after a known parameter."""
    names = [name for name, _ in named]
    if (
        parameters
        and all(names)
        and set(names) == set(parameters)
        and len(names) == len(set(names))
    ):
        by_name = dict(named)
        return [by_name[name] for name in parameters]
    if parameters and any(name and name not in parameters for name in names):
        raise ValueError("argument named after no parameter")
    return [value for _, value in named]


def _literal(text: str) -> Any:
    """A JSON value, or a Python literal (``True``, ``'a'``, ``(1, 2)``); ValueError if neither."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    tree = _parse(text, mode="eval")
    if tree is None:
        raise ValueError(f"not a value: {text[:40]!r}")
    return ast.literal_eval(tree)


def to_json(value: Any) -> str | None:
    """Compact-ish JSON for a parsed value; None for values JSON cannot hold."""
    try:
        converted = _jsonable(value)
        return json.dumps(converted, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError, OverflowError):
        return None


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, set | frozenset):
        items = [_jsonable(item) for item in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("JSON object keys must be strings")
        return {key: _jsonable(item) for key, item in value.items()}
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _parse(text: str, mode: str = "exec") -> Any:
    try:
        return ast.parse(text, mode=mode)
    except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError):
        return None
