"""Load codestar's own JSONL schema: one problem per record, for benchmarks of your own.

A record (the full schema, with an example, is in docs/problems.md)::

    {"id": "add", "statement": "Return a + b.", "kind": "functional",
     "entry_point": "add", "starter_code": "def add(a, b):\\n",
     "public_tests": [{"args": [1, 2], "output": 3}],
     "hidden_tests": [{"args": [5, 7]}, {"args": [-1, 1], "output": 0}],
     "reference_solution": "def add(a, b):\\n    return a + b\\n"}

``id`` and ``statement`` are required, and at least one test. ``kind`` is ``stdin``
(the default) or ``functional`` (then ``entry_point`` is required, or read from the
starter code). A stdin test is ``{"input": text, "output": text}``; a functional test
is ``{"args": [values], "output": value}`` or, in LiveCodeBench's own form,
``{"input": "one JSON value per line", "output": "JSON text"}``. A test without
``output`` gets its expected output from ``reference_solution``, run in the sandbox by
`codestar.evaluation.prepare`; such a test without a reference is an error.
``float_tolerance`` (a number) grades the problem's outputs within that tolerance.
``title``, ``platform``, ``difficulty``, ``contest_date`` (ISO) and ``metadata`` (an
object) are optional.

It does not run anything; unknown fields are errors, so that typos do not pass silently.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from codestar.problems.entrypoint import find_entry_point
from codestar.problems.examples import arguments_input
from codestar.problems.model import Problem, ProblemKind, TestCase
from codestar.problems.records import LoadResult, RecordFields, RecordSource, build_problems

__all__ = ["CUSTOM_FIELDS", "load_custom"]

CUSTOM_FIELDS = frozenset(
    {
        "id",
        "statement",
        "kind",
        "entry_point",
        "starter_code",
        "public_tests",
        "hidden_tests",
        "reference_solution",
        "float_tolerance",
        "title",
        "platform",
        "difficulty",
        "contest_date",
        "metadata",
    }
)
"""Every field the schema knows; ``id`` and ``statement`` are required."""


def load_custom(source: RecordSource, *, strict: bool = False) -> LoadResult:
    """Problems in codestar's JSONL schema from a path (JSON, JSON list, JSONL) or dicts."""
    return build_problems(source, _problem_from_record, benchmark="codestar", strict=strict)


class _Record(RecordFields):
    def __init__(self, record: Mapping[str, Any], index: int) -> None:
        super().__init__(record, index, benchmark="codestar", id_field="id")

    def tests(self, field: str, kind: ProblemKind) -> tuple[TestCase, ...]:
        value = self.record.get(field, [])
        if not isinstance(value, list):
            self.fail(field, "must be a list of tests")
        return tuple(self.test(field, number, item, kind) for number, item in enumerate(value))

    def test(self, field: str, number: int, item: Any, kind: ProblemKind) -> TestCase:
        if not isinstance(item, Mapping):
            self.fail(field, f"test {number} is not an object")
        unknown = set(item) - {"input", "args", "output"}
        if unknown:
            self.fail(field, f"test {number} has unknown keys {sorted(unknown)}")
        output = item.get("output")
        if "args" in item:
            if kind is not ProblemKind.FUNCTIONAL:
                self.fail(field, f"test {number}: 'args' is for functional problems")
            arguments = item["args"]
            text = arguments_input(arguments) if isinstance(arguments, list) else None
            if text is None:
                self.fail(field, f"test {number}: 'args' must be a list of JSON values")
            expected = None if "output" not in item else json.dumps(output)
            return TestCase(input=text, expected=expected)
        test_input = item.get("input")
        if not isinstance(test_input, str):
            self.fail(field, f"test {number} needs a string 'input' (or 'args')")
        if output is not None and not isinstance(output, str):
            self.fail(field, f"test {number}: 'output' must be a string with 'input'")
        return TestCase(input=test_input, expected=output)


def _problem_from_record(raw: Mapping[str, Any], index: int) -> Problem:
    record = _Record(raw, index)
    unknown = set(raw) - CUSTOM_FIELDS
    if unknown:
        record.fail(sorted(unknown)[0], f"is not in the schema (known: {sorted(CUSTOM_FIELDS)})")
    kind_text = record.text("kind") or "stdin"
    if kind_text not in ("stdin", "functional"):
        record.fail("kind", f"must be 'stdin' or 'functional', got {kind_text!r}")
    kind = ProblemKind(kind_text)
    starter_code = record.text("starter_code")
    entry_point = record.text("entry_point") or None
    if kind is ProblemKind.FUNCTIONAL and entry_point is None:
        found = find_entry_point(starter_code)
        if found is None:
            record.fail("entry_point", "is required for a functional problem without starter code")
        entry_point = found.name
    public = record.tests("public_tests", kind)
    hidden = record.tests("hidden_tests", kind)
    if not public and not hidden:
        record.fail("public_tests", "and 'hidden_tests' are both empty")
    reference = record.text("reference_solution")
    if not reference and any(test.expected is None for test in public + hidden):
        record.fail("reference_solution", "is needed: some tests have no 'output'")
    tolerance = raw.get("float_tolerance")
    if tolerance is not None and (
        not isinstance(tolerance, int | float) or isinstance(tolerance, bool) or tolerance <= 0
    ):
        record.fail("float_tolerance", "must be a positive number")
    extra = raw.get("metadata") or {}
    if not isinstance(extra, Mapping):
        record.fail("metadata", "must be an object")
    contest_date = record.moment("contest_date")
    metadata: dict[str, Any] = {**extra, "source": "codestar"}
    if reference:
        metadata["reference_solution"] = reference
    if tolerance is not None:
        metadata["float_tolerance"] = float(tolerance)
    return Problem(
        id=record.text("id", required=True),
        statement=record.text("statement", required=True),
        kind=kind,
        public_tests=public,
        hidden_tests=hidden,
        starter_code=starter_code,
        entry_point=entry_point,
        title=record.text("title"),
        platform=record.text("platform"),
        difficulty=record.text("difficulty") or None,
        contest_date=contest_date,
        metadata=metadata,
    )
