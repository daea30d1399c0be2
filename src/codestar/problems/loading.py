"""Load problems from a file whatever its format, telling the format by its content.

Recognized: LiveCodeBench records (they have ``question_content``), CodeContests
records (``description`` and ``tests``, or the hub's ``public_tests``), EvalPlus records
(``base_input``), HumanEval records (``prompt``, ``test``, ``canonical_solution``) and
codestar's own schema (``statement``), all as JSON, a JSON list or JSON Lines
(optionally ``.gz``), and a Markdown or plain-text statement (``.md``, ``.markdown``,
``.txt``, or any text that is not JSON). Anything else is a `ProblemFormatError` that
says what was expected.

It does not download datasets or pick benchmark subsets; see the format loaders and
`codestar.problems.livecodebench.select_problems`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from codestar.errors import ProblemFormatError
from codestar.problems.codecontests import load_codecontests
from codestar.problems.custom import load_custom
from codestar.problems.evalplus import EVALPLUS_FIELDS, load_evalplus
from codestar.problems.humaneval import HUMANEVAL_FIELDS, load_humaneval
from codestar.problems.livecodebench import load_livecodebench
from codestar.problems.records import LoadResult, first_record, read_text
from codestar.problems.statement import parse_statement

__all__ = ["detect_format", "load_problems"]

_STATEMENT_SUFFIXES = {".md", ".markdown", ".txt"}

_EXPECTED = (
    "expected LiveCodeBench records (with 'question_content' and 'public_test_cases'), "
    "CodeContests records (with 'description' and 'tests'), "
    "EvalPlus records (with 'base_input'), HumanEval records (with 'prompt' and 'test'), "
    "codestar records (with 'id', 'statement' and tests; see docs/problems.md), "
    "or a Markdown/text statement (.md, .txt) with Input/Output examples"
)


def load_problems(
    path: str | os.PathLike[str], *, strict: bool = False, public_count: int = 2
) -> LoadResult:
    """The problems in the file at ``path``, whichever supported format it has.

    Malformed records (or a statement without examples) are errors in the result;
    with ``strict`` the first one is raised. A file of unknown format always raises.
    ``public_count`` is how many CodeContests tests are public.
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
        return load_codecontests(file, public_count=public_count, strict=strict)
    if kind in _RECORD_LOADERS:
        return _RECORD_LOADERS[kind](file, strict=strict)
    try:
        problem = parse_statement(text, problem_id=_stem(file))
    except ProblemFormatError as error:
        if strict:
            raise
        return LoadResult((), (error,))
    return LoadResult((problem,), ())


def detect_format(text: str, *, name: str = "<text>") -> str:
    """The format of this file content: ``"livecodebench"``, ``"codecontests"``,
    ``"evalplus"``, ``"humaneval"``, ``"codestar"`` or ``"statement"``.

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


_RECORD_LOADERS: dict[str, Callable[..., LoadResult]] = {
    "evalplus": load_evalplus,
    "humaneval": load_humaneval,
    "codestar": load_custom,
}


def _is_statement_name(name: str) -> bool:
    return Path(name).suffix.lower() in _STATEMENT_SUFFIXES


def _format_of_record(record: Mapping[str, Any], name: str) -> str:
    keys = set(record)
    if "question_content" in keys:
        return "livecodebench"
    if {"description", "tests"} <= keys or {"description", "public_tests"} <= keys:
        return "codecontests"
    if keys >= EVALPLUS_FIELDS:
        return "evalplus"
    if keys >= HUMANEVAL_FIELDS:
        return "humaneval"
    if {"id", "statement"} <= keys:
        return "codestar"
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
