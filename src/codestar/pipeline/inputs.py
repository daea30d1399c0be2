"""Reading the test inputs (and input/output tests) a model wrote.

The prompts ask for each input in its own fenced block: the raw standard input for stdin
problems; for functional problems the arguments, one JSON value per argument and line
(LiveCodeBench's format). Models deviate, so parsing forgives: Python literals
(``True``, ``None``, ``'text'``, tuples) become JSON, ``name = value`` lines and calls
such as ``twoSum([1, 2], 3)`` give their arguments (see `codestar.pipeline.arguments`),
``Input 1:`` headings stand in for missing fences. When the model answers with a
program instead of inputs, its calls of the entry point (``print(f(...))``,
``assert f(...) == ...``, ``Solution().f(...)``) still give inputs, read through the
AST (`salvage_calls`). Every input that still does not
fit (wrong number of arguments, not a value, empty, over `MAX_INPUT_CHARS`) is dropped
and counted; nothing raises.

`parse_generated_tests` reads the CodeT-style baseline's tests: ``Input:`` / ``Output:``
block pairs for stdin problems, ``assert f(...) == value`` lines for functional ones.

What this module deliberately does not do: judge whether an input is valid for the
problem (a program that crashes on every candidate is filtered by the caller after
running), or trust any expected output beyond the baseline that asks for it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from codestar.pipeline.arguments import (
    call_arguments,
    encode_arguments,
    read_arguments,
    signature_parameters,
    to_json,
)
from codestar.pipeline.extraction import Block, find_blocks, parse_python, strip_thinking
from codestar.problems.model import ProblemKind, TestCase

__all__ = [
    "MAX_INPUT_CHARS",
    "ParsedInputs",
    "ParsedTests",
    "generator_scripts",
    "parse_generated_tests",
    "parse_inputs",
    "salvage_calls",
    "signature_parameters",
]

#: An input (or expected output) longer than this is dropped.
MAX_INPUT_CHARS = 1_000_000
#: Only this much of an answer is read (a few inputs of the largest size).
MAX_ANSWER_CHARS = 4_000_000

# Linear-time on purpose (no nested quantifiers): it is matched against every line of
# model output, grid rows of a thousand "#" included.
_HEADING = re.compile(
    r"""^[\#>*_\-\ \t]*                                   # markdown decoration
    (?P<what>(?:test|example|sample)(?:[\ \t]+case)?[\ \t]*\#?\d*
                (?:[\ \t]*(?:inputs?|outputs?|arguments|args))?
            |inputs?|outputs?|expected(?:[\ \t]+output)?|arguments|args)
    [\ \t]*(?:\#?\d+[\ \t]*)?[*_]*[\ \t]*(?P<separator>[:.)\-])?[*_\ \t]*
    (?P<rest>.*)$""",
    re.IGNORECASE | re.VERBOSE,
)
# A comment made of words ("# Edge case: n = 1"); a grid row such as "#.#", "###" or
# "# . #" is data, not a comment.
_PROSE_COMMENT = re.compile(r"[ \t]*#+[ \t]+[^\W\d_]")
_PLACEHOLDER = re.compile(r"^(?:<[^<>\n]*>|\.\.\.|…)$")
_ROLE_WORD = re.compile(r"\b(input|argument|output|expected|result|return)", re.IGNORECASE)
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_SEPARATOR = re.compile(r"^[ \t]*(?:-{3,}|={3,}|\*{3,})[ \t]*$")
_CODE_NODES = (
    ast.Import,
    ast.ImportFrom,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.For,
    ast.While,
    ast.If,
    ast.With,
    ast.Try,
)


@dataclass(frozen=True, slots=True)
class ParsedInputs:
    """Inputs ready to run, and how many were given up.

    ``dropped``: malformed (not parseable, wrong number of arguments, too large, empty);
    ``duplicates``: repeats of an earlier input; ``surplus``: beyond the requested limit.
    """

    inputs: tuple[str, ...]
    dropped: int = 0
    duplicates: int = 0
    surplus: int = 0


@dataclass(frozen=True, slots=True)
class ParsedTests:
    """Model-written input/expected-output tests and how many were dropped as malformed."""

    tests: tuple[TestCase, ...]
    dropped: int = 0
    duplicates: int = 0


def parse_inputs(
    text: str,
    *,
    kind: ProblemKind,
    arity: int | None = None,
    limit: int | None = None,
    parameters: Sequence[str] | None = None,
    entry_point: str | None = None,
) -> ParsedInputs:
    """The test inputs in a model's answer, normalized for running.

    Stdin inputs end with exactly one newline. Functional inputs are one JSON value per
    line, and must have ``arity`` values when it is given (``len(parameters)`` when only
    ``parameters`` is); ``parameters`` also orders ``name = value`` arguments. With
    ``entry_point``, code blocks that call it give their calls' arguments.

    >>> parse_inputs("```\\n[1, 2]\\n3\\n```\\n```\\n[True]\\n```", kind=ProblemKind.FUNCTIONAL,
    ...              arity=2)
    ParsedInputs(inputs=('[1, 2]\\n3',), dropped=1, duplicates=0, surplus=0)
    """
    if arity is None and parameters:
        arity = len(parameters)
    chunks, dropped = _chunks(text, kind=kind)
    salvaged = 0
    if kind is ProblemKind.FUNCTIONAL and entry_point:
        calls = salvage_calls(text, entry_point, parameters=parameters)
        salvaged = len(calls)
        chunks.extend(calls)
    inputs: list[str] = []
    seen: set[str] = set()
    duplicates = surplus = 0
    for number, chunk in enumerate(chunks):
        from_call = number >= len(chunks) - salvaged
        normalized = _normalize_input(chunk, kind=kind, arity=arity, parameters=parameters)
        if normalized is None:
            dropped += 0 if from_call else 1
        elif normalized in seen:
            duplicates += 0 if from_call else 1
        elif limit is not None and len(inputs) >= limit:
            surplus += 1
        else:
            seen.add(normalized)
            inputs.append(normalized)
    return ParsedInputs(tuple(inputs), dropped=dropped, duplicates=duplicates, surplus=surplus)


def parse_generated_tests(
    text: str,
    *,
    kind: ProblemKind,
    arity: int | None = None,
    parameters: Sequence[str] | None = None,
) -> ParsedTests:
    """Input/expected-output tests a model wrote (the CodeT-style baseline).

    Stdin: ``Input:`` and ``Output:`` blocks in pairs. Functional: ``assert call(args) ==
    value`` lines (in or out of a fence), or input/output block pairs as for stdin with
    the input in the functional argument format and the output one value.
    """
    if arity is None and parameters:
        arity = len(parameters)
    text = _clean(text)
    pairs: list[tuple[str, str]] = []
    dropped = 0
    if kind is ProblemKind.FUNCTIONAL:
        asserted, dropped = _assert_tests(text, arity=arity, parameters=parameters)
        pairs.extend(asserted)
    if not pairs:
        labelled, unpaired = _labelled_pairs(text, kind=kind)
        dropped += unpaired
        for raw_input, raw_output in labelled:
            normalized = _normalize_input(raw_input, kind=kind, arity=arity, parameters=parameters)
            expected = _normalize_output(raw_output, kind=kind)
            if normalized is None or expected is None:
                dropped += 1
            else:
                pairs.append((normalized, expected))
    tests: list[TestCase] = []
    seen: set[tuple[str, str]] = set()
    duplicates = 0
    for pair in pairs:
        if pair in seen:
            duplicates += 1
            continue
        seen.add(pair)
        tests.append(TestCase(input=pair[0], expected=pair[1]))
    return ParsedTests(tuple(tests), dropped=dropped, duplicates=duplicates)


# -- splitting an answer into raw inputs ------------------------------------------------


def _clean(text: str) -> str:
    if not isinstance(text, str):
        return ""
    return strip_thinking(text[:MAX_ANSWER_CHARS].replace("\r\n", "\n").replace("\r", "\n"))


def _chunks(text: str, *, kind: ProblemKind) -> tuple[list[str], int]:
    """The raw inputs: fenced blocks, else heading- or separator-delimited sections."""
    text = _clean(text)
    blocks = find_blocks(text)
    if blocks:
        chunks: list[str] = []
        salvaged: list[str] = []
        dropped = 0
        for block in blocks:
            if not block.closed or _is_program(block, kind=kind):
                dropped += 1
                if kind is ProblemKind.STDIN:
                    salvaged.extend(_tuple_inputs(block.body))
            elif _role(block.label) != "output":
                chunks.extend(_split_on_comment_headings(block.body))
        if not chunks and salvaged:
            # Small models answer with a test script instead of inputs; its
            # `(input, expected)` tuples still hold usable inputs.
            return salvaged, dropped
        return chunks, dropped
    sections = _sections(text)
    if kind is ProblemKind.FUNCTIONAL and not any(label for label, _ in sections):
        # Without any heading, each paragraph may be one call's arguments.
        paragraphs = ("\n".join(_strip_prose(p.split("\n"))) for p in _PARAGRAPH.split(text))
        return [paragraph for paragraph in paragraphs if paragraph.strip()], 0
    return [body for label, body in sections if _role(label) != "output"], 0


def salvage_calls(
    text: str, entry_point: str, *, parameters: Sequence[str] | None = None
) -> list[str]:
    """The arguments of every literal call of ``entry_point`` in the programs of an
    answer (fenced blocks holding code, else the whole answer), in the argument format.

    (`parse_inputs` does not count an input found both ways as a duplicate.)

    >>> salvage_calls("```python\\nprint(Solution().f([1, 2], k=3))\\nassert f('a', 1) == 2\\n```",
    ...               "f", parameters=("nums", "k"))
    ['[1, 2]\\n3', '"a"\\n1']
    """
    text = _clean(text)
    sources = [block.body for block in find_blocks(text) if block.closed] or [text]
    found: list[str] = []
    for source in sources:
        tree = parse_python(source)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args + node.keywords:
                continue
            function = node.func
            name = function.id if isinstance(function, ast.Name) else None
            if isinstance(function, ast.Attribute):
                name = function.attr
            if name != entry_point:
                continue
            try:
                values = call_arguments(node, parameters)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            encoded = encode_arguments(values)
            if encoded is not None:
                found.append(encoded)
    return found


def generator_scripts(text: str, *, limit: int = 3) -> list[str]:
    """Programs in an answer that print something and read nothing: for a stdin
    problem, what they print may be a test input (the caller runs them in the sandbox).

    >>> generator_scripts("```python\\nprint(3)\\nprint('1 2 3')\\n```\\n```\\nn = input()\\n```")
    ["print(3)\\nprint('1 2 3')"]
    """
    found: list[str] = []
    for block in find_blocks(_clean(text)):
        tree = parse_python(block.body) if block.closed else None
        if tree is None or any(marker in block.body for marker in _READS_INPUT):
            continue
        prints = (
            any(
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "print"
                for node in ast.walk(tree)
            )
            or "sys.stdout" in block.body
        )
        if prints:
            found.append(block.body.strip("\n"))
        if len(found) >= limit:
            break
    return found


_READS_INPUT = ("input(", "sys.stdin", "open(", "stdin", "fileinput")


# "# Input 2", "## Test case 3:", "# Example" on a line of its own inside one block.
_COMMENT_HEADING = re.compile(
    r"[ \t]*#+[ \t]*(?:input|test|example|sample|case)(?:[ \t]+case)?[ \t]*\#?\d*[ \t]*:?[ \t]*",
    re.IGNORECASE,
)


def _split_on_comment_headings(body: str) -> list[str]:
    """One block holding several inputs under ``# Input N`` comment lines (the 0.5B
    model writes them so): one chunk per heading, the heading lines left out.

    >>> _split_on_comment_headings("# Input 1\\n3 5\\n\\n# Input 2\\n-2 7")
    ['3 5\\n', '-2 7']
    """
    lines = body.split("\n")
    if not any(_COMMENT_HEADING.fullmatch(line) for line in lines):
        return [body]
    parts: list[list[str]] = [[]]
    for line in lines:
        if _COMMENT_HEADING.fullmatch(line):
            parts.append([])
        else:
            parts[-1].append(line)
    return ["\n".join(part) for part in parts if "".join(part).strip()]


_TUPLE_FIRST_STRING = re.compile(r"""\(\s*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')\s*,""")


def _tuple_inputs(code: str) -> list[str]:
    """The first string of each ``("...", ...)`` tuple in (possibly cut-off) code.

    >>> _tuple_inputs('cases = [("1 2", "3"), ("4 5", "9"), ("cut')
    ['1 2', '4 5']
    """
    found = []
    for match in _TUPLE_FIRST_STRING.finditer(code):
        try:
            value = ast.literal_eval(match.group(1))
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, str) and value.strip():
            found.append(value)
    return found


def _sections(text: str) -> list[tuple[str, str]]:
    """Split unfenced text on ``Input N:``-style headings or ``---`` lines.

    Each section is (heading label, body); text after ``Input:`` on the heading's own
    line starts the body. Without any heading the whole text is one unlabelled section.
    """
    sections: list[tuple[str, list[str]]] = []
    current: tuple[str, list[str]] | None = None
    for line in text.split("\n"):
        heading = _heading(line)
        if heading is not None:
            current = heading[0], [heading[1]] if heading[1] else []
            sections.append(current)
        elif _SEPARATOR.match(line):
            current = None
        else:
            if current is None:
                current = ("", [])
                sections.append(current)
            current[1].append(line)
    result = []
    for label, lines in sections:
        body = "\n".join(_strip_prose(lines))
        if body.strip():
            result.append((label, body))
    return result


def _heading(line: str) -> tuple[str, str] | None:
    """(label, text after it) when ``line`` is a heading such as ``**Input 2:** 5 3``.

    A heading followed by more text needs a separator (``Input: 5``), so that prose
    such as "Output the answer" is not one.
    """
    if len(line) > 200:
        return None
    match = _HEADING.match(line)
    if match is None or (match["rest"].strip() and not match["separator"]):
        return None
    return match["what"].lower(), match["rest"].strip()


def _strip_prose(lines: list[str]) -> list[str]:
    """Drop the sentences around unfenced data ("Here are the inputs:", "Hope this helps!").

    A line is prose when it ends with a colon, or is a sentence of four or more words
    ending in ``.`` or ``!``; blank lines at both ends go too.
    """
    start, end = 0, len(lines)
    while start < end and (not lines[start].strip() or _is_prose(lines[start])):
        start += 1
    while end > start and (not lines[end - 1].strip() or _is_prose(lines[end - 1])):
        end -= 1
    return lines[start:end]


def _is_prose(line: str) -> bool:
    stripped = line.strip()
    if stripped.endswith(":"):
        return True
    words = stripped.split()
    return (
        stripped.endswith((".", "!"))
        and len(words) >= 4
        and sum(word.isalpha() for word in words) >= 3
    )


def _is_program(block: Block, *, kind: ProblemKind) -> bool:
    """A block holding code (a generator script, a solution) or only prose comments."""
    lines = [line for line in block.body.split("\n") if line.strip()]
    if lines and all(_PROSE_COMMENT.match(line) for line in lines):
        return True  # "# Sample Input 1" lines and nothing else: no data at all
    tree = parse_python(block.body)
    if tree is None:
        return False
    if any(isinstance(node, _CODE_NODES) for node in tree.body):
        return True
    # `print(...)` or `x = 5` lines are code for stdin; for functional problems
    # assignments are the `name = value` argument style.
    return kind is ProblemKind.STDIN and block.is_python and _has_statement_code(tree)


def _has_statement_code(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.Assign | ast.AugAssign)
        or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call))
        for node in tree.body
    )


# -- normalizing one input ---------------------------------------------------------------


def _normalize_input(
    chunk: str, *, kind: ProblemKind, arity: int | None, parameters: Sequence[str] | None
) -> str | None:
    if len(chunk) > MAX_INPUT_CHARS or "\x00" in chunk:
        return None
    if kind is ProblemKind.STDIN:
        lines = chunk.split("\n")
        first = _heading(lines[0])
        if first is not None and not first[1]:
            lines = lines[1:]  # an "Input:" label repeated inside the block
        body = "\n".join(line.rstrip("\r") for line in lines).strip("\n")
        if not body.strip() or _PLACEHOLDER.match(body.strip()):
            return None  # empty, or a format placeholder copied from the prompt
        return body + "\n"
    values = read_arguments(chunk.strip(), arity=arity, parameters=parameters)
    text = encode_arguments(values) if values is not None else None
    return text if text is not None and len(text) <= MAX_INPUT_CHARS else None


def _normalize_output(chunk: str, *, kind: ProblemKind) -> str | None:
    if len(chunk) > MAX_INPUT_CHARS or "\x00" in chunk:
        return None
    if kind is ProblemKind.STDIN:
        body = chunk.strip("\n")
        return body + "\n" if body.strip() else None
    values = read_arguments(chunk.strip(), arity=1, parameters=None)
    return to_json(values[0]) if values else None


# -- tests -------------------------------------------------------------------------------


def _assert_tests(
    text: str, *, arity: int | None, parameters: Sequence[str] | None
) -> tuple[list[tuple[str, str]], int]:
    """``assert f(args) == expected`` statements, wherever they are in the answer."""
    pairs: list[tuple[str, str]] = []
    dropped = 0
    for statement in _assert_statements(text):
        found = _assert_pair(statement, arity=arity, parameters=parameters)
        if found is None:
            dropped += 1
        else:
            pairs.append(found)
    return pairs, dropped


def _assert_statements(text: str) -> Iterator[str]:
    """The source of each assert: whole parseable blocks first, else line by line."""
    sources = [block.body for block in find_blocks(text)] or [text]
    for source in sources:
        tree = parse_python(source)
        if tree is not None:
            for node in tree.body:
                if isinstance(node, ast.Assert):
                    yield ast.get_source_segment(source, node) or ""
            continue
        for line in source.split("\n"):
            if line.strip().startswith("assert "):
                yield line.strip()


def _assert_pair(
    source: str, *, arity: int | None, parameters: Sequence[str] | None
) -> tuple[str, str] | None:
    tree = parse_python(source)
    if tree is None or len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
        return None
    test = tree.body[0].test
    if not (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq | ast.Is)
    ):
        return None
    left, right = test.left, test.comparators[0]
    call, expected = (left, right) if isinstance(left, ast.Call) else (right, left)
    if not isinstance(call, ast.Call):
        return None
    try:
        values = call_arguments(call, parameters)
        result = ast.literal_eval(expected)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if not values or (arity is not None and len(values) != arity):
        return None
    text = encode_arguments(values)
    expected_json = to_json(result)
    if text is None or expected_json is None:
        return None
    if len(text) > MAX_INPUT_CHARS or len(expected_json) > MAX_INPUT_CHARS:
        return None
    return text, expected_json


def _labelled_pairs(text: str, *, kind: ProblemKind) -> tuple[list[tuple[str, str]], int]:
    """(input, output) pairs from labelled blocks or sections; unpaired parts counted."""
    blocks = find_blocks(text)
    if blocks:
        usable = [b for b in blocks if b.closed and not _is_program(b, kind=kind)]
        parts = [(_role(block.label), block.body) for block in usable]
        unclosed = len(blocks) - len(usable)
    else:
        parts = [(_role(label), body) for label, body in _sections(text)]
        unclosed = 0
    pairs: list[tuple[str, str]] = []
    unpaired = unclosed
    pending: str | None = None
    for role, body in parts:
        if role == "output" or (role == "" and pending is not None):
            if pending is None:
                unpaired += 1
            else:
                pairs.append((pending, body))
                pending = None
        else:
            if pending is not None:
                unpaired += 1
            pending = body
    if pending is not None:
        unpaired += 1
    return pairs, unpaired


def _role(label: str) -> str:
    """``"input"``, ``"output"`` or ``""`` for a block's label: its first telling word.

    ("Expected output for input 1:" labels an output, "Input 2 (large result):" an input.)
    """
    word = _ROLE_WORD.search(label)
    if word is None:
        return ""
    return "input" if word[1].lower() in ("input", "argument") else "output"
