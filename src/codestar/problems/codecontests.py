"""Load CodeContests records (Codeforces problems, all stdin) as problems.

A record has ``id``, ``description`` (a Markdown statement), ``tags`` (a list, or one
string with a tag per line) and ``tests``: a list of ``{input, output}`` objects, or the
same written as a Python literal string (read with ``ast.literal_eval``, never
``eval``). The first ``public_count`` tests are public, the rest hidden.

The Hugging Face hub's format (``deepmind/code_contests``) is read too: ``name``,
``description``, and ``public_tests`` / ``private_tests`` / ``generated_tests`` as
``{"input": [...], "output": [...]}`` columns. There the split is the dataset's own:
``public_tests`` are public, private and generated tests hidden (``public_count`` does
not apply).

The statement is the description's title and its ``## Description`` section when the
record has one: the packager's extra sections are left out, because ``## Examples``
shows more tests than the public ones (it would leak hidden tests) and ``## Testing``
talks about a harness that is not ours. Problems with several right answers (a
checker in the original contest) are graded by plain comparison; that is a known
limit of this benchmark format, not something this loader can fix.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any, NoReturn

from codestar.errors import ProblemFormatError
from codestar.problems.model import Problem, ProblemKind, TestCase
from codestar.problems.records import LoadResult, RecordSource, build_problems

__all__ = ["load_codecontests"]

_TITLE = re.compile(r"^#\s+(.+?)\s*$", re.MULTILINE)
_SECTION = re.compile(r"^##\s+(.+?)\s*$", re.MULTILINE)
_RATING = re.compile(r"^\*\*Difficulty:\*\*\s*(\S+)", re.MULTILINE)


def load_codecontests(
    source: RecordSource, *, public_count: int = 2, strict: bool = False
) -> LoadResult:
    """Read CodeContests records from a path (JSON, JSON list or JSONL) or dicts.

    Malformed records become errors in the result (or, with ``strict``, the first one
    is raised).
    """
    if public_count < 0:
        raise ValueError(f"public_count must not be negative, got {public_count}")

    def build(record: Mapping[str, Any], index: int) -> Problem:
        return _problem_from_record(record, index, public_count)

    return build_problems(source, build, benchmark="CodeContests", strict=strict)


def _fail(where: str, field: str, problem: str) -> NoReturn:
    raise ProblemFormatError(f"{where}: field {field!r} {problem}")


def _problem_from_record(record: Mapping[str, Any], index: int, public_count: int) -> Problem:
    identifier = record.get("id", record.get("name"))
    where = f"CodeContests record {index}" + (
        f" ({identifier})" if isinstance(identifier, str | int) else ""
    )
    if not isinstance(identifier, str | int) or isinstance(identifier, bool) or identifier == "":
        _fail(where, "id", "is missing")
    description = record.get("description")
    if not isinstance(description, str) or not description.strip():
        _fail(where, "description", "is missing or not a string")
    if "tests" not in record and "public_tests" in record:
        public = _tests(record.get("public_tests"), where, field="public_tests")
        hidden = tuple(
            test
            for field in ("private_tests", "generated_tests")
            if record.get(field)
            for test in _tests(record.get(field), where, field=field, allow_empty=True)
        )
    else:
        tests = _tests(record.get("tests"), where)
        public, hidden = tests[:public_count], tests[public_count:]
    title_match = _TITLE.search(description)
    rating = _RATING.search(description)
    return Problem(
        id=str(identifier),
        statement=_statement(description),
        kind=ProblemKind.STDIN,
        public_tests=public,
        hidden_tests=hidden,
        title=title_match.group(1) if title_match else "",
        platform="codeforces",
        metadata={
            "source": "codecontests",
            "tags": _tags(record.get("tags"), where),
            "rating": rating.group(1) if rating else None,
            "cluster": record.get("cluster"),
        },
    )


def _tests(
    value: Any, where: str, *, field: str = "tests", allow_empty: bool = False
) -> tuple[TestCase, ...]:
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as error:
            _fail(where, field, f"is not a Python or JSON literal: {error}")
    if isinstance(value, Mapping):
        value = _from_columns(value, where, field)
    if not isinstance(value, list | tuple) or not (value or allow_empty):
        _fail(where, field, "must be a non-empty list of {input, output} objects")
    tests = []
    for number, item in enumerate(value):
        if not isinstance(item, Mapping):
            _fail(where, field, f"test {number} is not an object")
        test_input, output = item.get("input"), item.get("output")
        if not isinstance(test_input, str) or not isinstance(output, str):
            _fail(where, field, f"test {number} needs string 'input' and 'output'")
        tests.append(TestCase(input=test_input, expected=output))
    return tuple(tests)


def _from_columns(columns: Mapping[str, Any], where: str, field: str) -> list[dict[str, Any]]:
    """Hugging Face's ``{"input": [...], "output": [...]}`` shape, as a list of tests."""
    inputs, outputs = columns.get("input"), columns.get("output")
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        _fail(where, field, "as an object needs 'input' and 'output' lists")
    if len(inputs) != len(outputs):
        _fail(where, field, f"has {len(inputs)} inputs but {len(outputs)} outputs")
    return [{"input": i, "output": o} for i, o in zip(inputs, outputs, strict=True)]


def _tags(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(tag.strip() for tag in value.splitlines() if tag.strip())
    if isinstance(value, list | tuple) and all(isinstance(tag, str) for tag in value):
        return tuple(value)
    _fail(where, "tags", "must be a list of strings or one string per line")


def _statement(description: str) -> str:
    """The title plus the ``## Description`` section, or everything when there is none.

    >>> _statement("# A. Sum\\n\\n## Description\\n\\nAdd.\\n\\n## Examples\\n\\n1 2")
    '# A. Sum\\n\\nAdd.'
    """
    sections = list(_SECTION.finditer(description))
    body = next((s for s in sections if s.group(1).lower() == "description"), None)
    if body is None:
        return description.strip()
    following = next((s for s in sections if s.start() > body.start()), None)
    text = description[body.end() : following.start() if following else None].strip()
    title = _TITLE.search(description)
    if title is not None and title.start() < body.start():
        return f"{title.group(0).strip()}\n\n{text}"
    return text
