"""Load problems from a file whatever its format, telling the format by its content.

Recognized: LiveCodeBench records (they have ``question_content``), CodeContests
records (``description`` and ``tests``), both as JSON, a JSON list or JSON Lines
(optionally ``.gz``), and a Markdown or plain-text statement (``.md``, ``.markdown``,
``.txt``, or any text that is not JSON). Anything else is a `ProblemFormatError` that
says what was expected.

It does not download datasets or pick benchmark subsets; see the format loaders and
`codestar.problems.livecodebench.select_problems`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codestar.errors import ProblemFormatError
from codestar.problems.codecontests import load_codecontests
from codestar.problems.livecodebench import load_livecodebench
from codestar.problems.records import LoadResult, first_record, read_text
from codestar.problems.statement import parse_statement

__all__ = ["detect_format", "load_problems"]

_STATEMENT_SUFFIXES = {".md", ".markdown", ".txt"}

_EXPECTED = (
    "expected LiveCodeBench records (with 'question_content' and 'public_test_cases'), "
    "CodeContests records (with 'description' and 'tests'), "
    "or a Markdown/text statement (.md, .txt) with Input/Output examples"
)


def load_problems(path: str | os.PathLike[str], *, strict: bool = False) -> LoadResult:
    """The problems in the file at ``path``, whichever supported format it has.

    Malformed records (or a statement without examples) are errors in the result;
    with ``strict`` the first one is raised. A file of unknown format always raises.
    """
    file = Path(path)
    head = None if _is_statement_name(file.name) else first_record(file)
    if head is not None:
        kind = _format_of_record(head, file.name)  # JSON Lines: no need to read it all
    else:
        text = read_text(file)
        kind = detect_format(text, name=file.name)
    if kind == "livecodebench":
        return load_livecodebench(file, strict=strict)
    if kind == "codecontests":
        return load_codecontests(file, strict=strict)
    try:
        problem = parse_statement(text, problem_id=_stem(file))
    except ProblemFormatError as error:
        if strict:
            raise
        return LoadResult((), (error,))
    return LoadResult((problem,), ())


def detect_format(text: str, *, name: str = "<text>") -> str:
    """``"livecodebench"``, ``"codecontests"`` or ``"statement"`` for this file content.

    Text starting with ``{`` or ``[`` is records, recognized by the keys of the first
    one, unless ``name`` ends in ``.md``/``.markdown``/``.txt``; other text is a
    statement when ``name`` has one of those suffixes or none at all.
    """
    stripped = text.lstrip()
    if stripped[:1] in ("{", "[") and not _is_statement_name(name):
        first = _first_record(stripped)
        if first is None:
            raise ProblemFormatError(
                f"{name}: looks like JSON but has no readable record; {_EXPECTED}"
            )
        return _format_of_record(first, name)
    if not stripped:
        raise ProblemFormatError(f"{name} is empty; {_EXPECTED}")
    if _is_statement_name(name) or not Path(name).suffix:
        return "statement"
    raise ProblemFormatError(f"{name}: unknown format; {_EXPECTED}")


def _is_statement_name(name: str) -> bool:
    return Path(name).suffix.lower() in _STATEMENT_SUFFIXES


def _format_of_record(record: Mapping[str, Any], name: str) -> str:
    keys = set(record)
    if "question_content" in keys:
        return "livecodebench"
    if {"description", "tests"} <= keys:
        return "codecontests"
    shown = ", ".join(sorted(keys)[:8]) or "none"
    raise ProblemFormatError(f"{name}: unknown record format (keys: {shown}); {_EXPECTED}")


def _first_record(text: str) -> Mapping[str, Any] | None:
    try:
        whole = json.loads(text)
    except (ValueError, RecursionError):
        whole = None
    if isinstance(whole, dict):
        return whole
    if isinstance(whole, list):
        return whole[0] if whole and isinstance(whole[0], dict) else None
    first_line = text.split("\n", 1)[0]
    try:
        record = json.loads(first_line)
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


def _stem(file: Path) -> str:
    name = file.name
    for suffix in reversed(file.suffixes):
        name = name.removesuffix(suffix)
    return name or file.name
