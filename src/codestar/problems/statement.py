"""Read a problem that a person wrote in Markdown or plain text (``codestar solve``).

The format is documented in ``docs/problems.md``; in short:

* Examples are ``Input`` / ``Output`` labels, each followed by its block: a fenced block,
  an indented block, plain lines up to the next blank line, or text on the label's own
  line after a colon (``Input: nums = [2,7], target = 9``). Labels may be headings,
  bold, numbered or qualified: ``Sample Input 1``, ``### Output``, ``**Input:**``.
* When some examples are *qualified* (``Sample``/``Example`` in the label, a number, or
  under an ``Example``/``Examples`` heading), only those count, so the ``Input`` and
  ``Output`` sections that describe the format are not mistaken for examples.
* A ```` ```python ```` fence that defines a function or class is starter code: the
  problem is then functional and the entry point comes from it.
* Functional examples become tests in LiveCodeBench's format: one JSON value per
  argument, one per line; ``name = value`` assignments give the arguments in order;
  Python literals (``True``, ``None``, tuples) are converted to JSON.

It does not judge whether examples are right, nor read images or HTML.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from dataclasses import dataclass
from typing import Any

from codestar.errors import ProblemFormatError
from codestar.problems.entrypoint import find_entry_point
from codestar.problems.model import Problem, ProblemKind, TestCase

__all__ = ["parse_statement"]

_NO_EXAMPLE_HINT = (
    "add 'Input:' and 'Output:' blocks: a line 'Input:', the input below it, "
    "then a line 'Output:' and the expected output (fences allowed)"
)

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)")
_BOLD = r"(?:\*\*|__)?"
_LABEL = re.compile(
    rf"^\s*(?:#{{1,6}}\s*)?{_BOLD}\s*(?P<qualifier>(?:sample|example)\s*)?"
    rf"(?P<which>input|output)(?P<number>\s*#?\s*\d+)?\s*{_BOLD}\s*"
    rf"(?P<colon>[:：])?\s*{_BOLD}\s*(?P<rest>.*?)\s*$",
    re.IGNORECASE,
)
_EXAMPLE_HEADING = re.compile(
    rf"^\s*(?:#{{1,6}}\s*)?{_BOLD}\s*(?:examples?|samples?)(?:\s+(?:tests?|cases?))?"
    rf"(?:\s*#?\s*\d+)?\s*{_BOLD}\s*:?\s*{_BOLD}\s*$",
    re.IGNORECASE,
)
_SECTION_END = re.compile(
    r"^\s*(?:#{1,6}\s+\S|(?:\*\*|__)?(?:constraints?|notes?|follow[- ]?up|hints?)\b)",
    re.IGNORECASE,
)
_BLOCK_END = re.compile(r"^\s*(?:\*\*|__)?(?:explanation|note)\b", re.IGNORECASE)
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*=(?!=)\s*")
_JSON_WORDS = re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|\b(true|false|null)\b")
_PYTHON_FENCES = {"python", "py", "python3", "py3"}


@dataclass(frozen=True, slots=True)
class _Fence:
    start: int  # line of the opening fence
    end: int  # line of the closing fence (or the last line when unclosed)
    language: str
    content: str


@dataclass(frozen=True, slots=True)
class _Label:
    is_input: bool
    qualified: bool
    content: str
    inline: bool


def parse_statement(
    text: str,
    *,
    problem_id: str | None = None,
    kind: ProblemKind | None = None,
    entry_point: str | None = None,
) -> Problem:
    """A `Problem` from a Markdown or plain-text statement; examples are public tests.

    ``kind`` and ``entry_point`` override what the text implies. Raises
    `ProblemFormatError` when no example can be found or a functional example cannot be
    read as values.
    """
    # Only newlines split lines: str.splitlines would also split at \x1c-\x1e and
    # \u2028, which can be part of an example's text.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    fences = _find_fences(lines)
    starter = next((f for f in fences if _is_starter(f)), None)
    starter_code = starter.content if starter else ""
    inside = {line for fence in fences for line in range(fence.start, fence.end + 1)}
    title = _title(lines, inside)
    identifier = problem_id or _slug(title) or "problem"
    pairs = _example_pairs(lines, fences, inside, skip=starter)
    if not pairs:
        raise ProblemFormatError(f"{identifier}: no examples found", hint=_NO_EXAMPLE_HINT)
    if kind is None:
        named = any(_ASSIGNMENT.match(pair[0].content) for pair in pairs if pair[0].inline)
        functional = bool(starter_code or entry_point or named)
        kind = ProblemKind.FUNCTIONAL if functional else ProblemKind.STDIN
    arity = None
    if kind is ProblemKind.FUNCTIONAL:
        found = find_entry_point(starter_code, entry_point) if starter_code else None
        entry_point = entry_point or (found.name if found else None)
        if entry_point is None:
            raise ProblemFormatError(
                f"{identifier}: the examples look functional but no function is named",
                hint="add a ```python block with the function's signature, "
                "give the entry point, or say the problem reads stdin",
            )
        arity = found.arity if found else None
    tests = tuple(
        _test(inputs, output, kind, arity, f"{identifier}: example {number}")
        for number, (inputs, output) in enumerate(pairs, start=1)
    )
    statement = _without(lines, starter) if starter else text
    return Problem(
        id=identifier,
        statement=statement.strip(),
        kind=kind,
        public_tests=tests,
        starter_code=starter_code,
        entry_point=entry_point if kind is ProblemKind.FUNCTIONAL else None,
        title=title,
        metadata={"source": "statement"},
    )


def _find_fences(lines: list[str]) -> list[_Fence]:
    fences = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        marker = opening.group(1)
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(marker):
            end += 1
        # As in CommonMark, content loses only the fence's own indentation: leading
        # spaces inside the block can matter (a stdin input drawn as ASCII art).
        indent = _indent(lines[index])
        body = "\n".join(_unindent(line, indent) for line in lines[index + 1 : end])
        fences.append(_Fence(index, min(end, len(lines) - 1), opening.group(2).lower(), body))
        index = end + 1
    return fences


def _unindent(line: str, indent: int) -> str:
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(indent, spaces) :]


def _is_starter(fence: _Fence) -> bool:
    return fence.language in _PYTHON_FENCES and find_entry_point(fence.content) is not None


def _title(lines: list[str], inside: set[int]) -> str:
    for index, line in enumerate(lines):
        if index in inside:
            continue  # a "# comment" in starter code is not a title
        heading = re.match(r"^\s*#\s+(.+?)\s*#*\s*$", line)
        if heading and not _LABEL.match(line) and not _EXAMPLE_HEADING.match(line):
            return heading.group(1)
    return ""


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]


def _without(lines: list[str], fence: _Fence) -> str:
    return "\n".join(lines[: fence.start] + lines[fence.end + 1 :])


def _example_pairs(
    lines: list[str], fences: list[_Fence], inside: set[int], *, skip: _Fence | None
) -> list[tuple[_Label, _Label]]:
    """The (input, output) label pairs that are examples, in order."""
    fence_at = {fence.start: fence for fence in fences if fence is not skip}
    labels: list[_Label] = []
    # The heading level of the Example(s) section we are in (7 for a plain line such as
    # "Example 1:"), or None outside one. A label that is itself a heading as high as
    # that section's ("## Examples" ... "## Input") starts a new section instead.
    examples_level: int | None = None
    for index, line in enumerate(lines):
        if index in inside:
            continue
        if _EXAMPLE_HEADING.match(line):
            examples_level = _heading_level(line)
            continue
        match = _label(line)
        if match is None:
            if _SECTION_END.match(line):
                examples_level = None
            continue
        if examples_level is not None and _heading_level(line) <= examples_level < 7:
            examples_level = None
        qualified = examples_level is not None or bool(
            match.group("qualifier") or match.group("number")
        )
        rest = match.group("rest")
        if rest:
            content, inline = rest.strip("`").strip(), True
        else:
            content, inline = _block_after(lines, index, fence_at, inside), False
        is_input = match.group("which").lower() == "input"
        labels.append(_Label(is_input, qualified, content, inline))
    pairs: list[tuple[_Label, _Label]] = []
    pending: _Label | None = None
    for label in labels:
        if label.is_input:
            pending = label
        elif pending is not None:
            pairs.append((pending, label))
            pending = None
    qualified_pairs = [pair for pair in pairs if pair[0].qualified or pair[1].qualified]
    return qualified_pairs or pairs


def _heading_level(line: str) -> int:
    """1-6 for a Markdown heading, 7 for any other line."""
    hashes = re.match(r"\s*(#{1,6})\s", line)
    return len(hashes.group(1)) if hashes else 7


def _is_boundary(line: str) -> bool:
    """True for a line that ends a plain block: a label, a heading, an explanation."""
    return _label(line) is not None or any(
        pattern.match(line) for pattern in (_EXAMPLE_HEADING, _SECTION_END, _BLOCK_END)
    )


def _block_after(
    lines: list[str], index: int, fence_at: dict[int, _Fence], inside: set[int]
) -> str:
    """The block under the label on line ``index``: fenced, indented or plain lines."""
    start = index + 1
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines):
        return ""
    if start in fence_at:
        return fence_at[start].content.strip("\n")
    if start in inside or _is_boundary(lines[start]):
        return ""
    label_indent = _indent(lines[index])
    block_indent = _indent(lines[start])
    end = start
    if block_indent >= label_indent + 4:
        while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) >= block_indent):
            end += 1
    else:
        while end < len(lines) and lines[end].strip() and end not in inside:
            if end > start and _is_boundary(lines[end]):
                break
            end += 1
    return textwrap.dedent("\n".join(lines[start:end])).strip("\n")


def _label(line: str) -> re.Match[str] | None:
    """The label on this line, if it is one.

    A label either ends its line or has a colon before inline content, so a sentence
    like "Output the answer." is not a label.
    """
    match = _LABEL.match(line)
    if match is None or (match.group("rest") and not match.group("colon")):
        return None
    return match


def _indent(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


def _test(
    inputs: _Label, output: _Label, kind: ProblemKind, arity: int | None, where: str
) -> TestCase:
    if kind is ProblemKind.STDIN:
        return TestCase(input=_as_stdin(inputs.content), expected=_as_stdin(output.content))
    arguments = [_to_json(value, f"{where} input") for value in _argument_texts(inputs.content)]
    if arity is not None and len(arguments) > arity:
        raise ProblemFormatError(
            f"{where}: {len(arguments)} arguments given but the function takes {arity}",
            hint="write one argument per line, or 'name = value' pairs separated by commas",
        )
    return TestCase(
        input="\n".join(arguments), expected=_to_json(output.content, f"{where} output")
    )


def _as_stdin(content: str) -> str:
    return content + "\n" if content else ""


def _top_level_split(text: str, separators: str) -> list[str]:
    """Split at separators outside brackets and quotes.

    >>> _top_level_split("a = [1, 2], b = 'x,y'", ",")
    ['a = [1, 2]', " b = 'x,y'"]
    """
    pieces, depth, quote, start = [], 0, "", 0
    escaped = False
    for position, char in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif char in separators and depth == 0:
            pieces.append(text[start:position])
            start = position + 1
    pieces.append(text[start:])
    return pieces


def _argument_texts(content: str) -> list[str]:
    """The argument values written in an example input, in order.

    >>> _argument_texts("nums = [2,7], target = 9")
    ['[2,7]', '9']
    """
    pieces = [piece for piece in _top_level_split(content, ",\n") if piece.strip()]
    if any(_ASSIGNMENT.match(piece) for piece in pieces):
        values: list[str] = []
        for piece in pieces:
            assignment = _ASSIGNMENT.match(piece)
            if assignment is not None or not values:
                values.append(piece[assignment.end() :] if assignment else piece)
            else:  # a comma inside an unbracketed value: glue it back on
                values[-1] += "," + piece
        return [value.strip() for value in values]
    return [line.strip() for line in content.splitlines() if line.strip()]


def _to_json(text: str, where: str) -> str:
    """One value written as JSON or as a Python literal, as compact-ish JSON text.

    >>> _to_json("(True, None)", "x")
    '[true, null]'
    """
    value: Any
    text = text.strip()
    try:
        value = json.loads(text)
    except ValueError:
        pythonic = _JSON_WORDS.sub(
            lambda m: {"true": "True", "false": "False", "null": "None"}.get(
                m.group(1) or "", m.group(0)
            ),
            text,
        )
        try:
            value = ast.literal_eval(pythonic)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as error:
            raise ProblemFormatError(
                f"{where}: cannot read {text[:80]!r} as a JSON or Python value",
                hint='write values as JSON or Python literals, e.g. [1, 2] or "text"',
            ) from error
    except RecursionError as error:
        raise ProblemFormatError(f"{where}: value nested too deeply") from error
    try:
        return json.dumps(value)
    except (TypeError, ValueError, RecursionError) as error:
        raise ProblemFormatError(
            f"{where}: {text[:80]!r} is not a JSON value ({type(value).__name__})"
        ) from error
