"""Load LiveCodeBench ``code_generation_lite`` records as problems, and select among them.

A record carries ``question_id``, ``question_title``, ``question_content`` (the
statement), ``platform``, ``contest_id``, ``contest_date`` (ISO datetime),
``starter_code``, ``difficulty``, ``public_test_cases`` (a JSON string of
``{input, output, testtype}`` objects), ``private_test_cases`` (the same, either as JSON
or in LiveCodeBench's compressed form) and ``metadata`` (a JSON string; ``func_name``
names the function for LeetCode problems).

The compressed form is base64 of zlib of a *pickled string* holding the JSON. Pickle
can run arbitrary code, so it is read with an unpickler that refuses to look up any
class or function: only plain data can come out, and it must be a ``str``.

The release version (v1, v2...) is not in the records; `select_problems` filters by
contest-date window, difficulty and platform instead. Fetching the dataset from the
Hugging Face hub is not done here: give this module a local file or parsed records.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import zlib
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime, time
from typing import Any, NoReturn

from codestar.errors import ProblemFormatError
from codestar.problems.entrypoint import find_entry_point
from codestar.problems.model import Problem, ProblemKind, TestCase
from codestar.problems.records import LoadResult, RecordFields, RecordSource, build_problems

__all__ = ["decode_private_test_cases", "load_livecodebench", "select_problems"]

_TEST_TYPES = {"stdin": ProblemKind.STDIN, "functional": ProblemKind.FUNCTIONAL}

# The largest decompressed test blob accepted; the real ones are far smaller, and a
# zlib bomb should fail as a format error rather than exhaust memory.
_MAX_DECOMPRESSED_BYTES = 1 << 30


class _DataOnlyUnpickler(pickle.Unpickler):
    """An unpickler that builds plain data only: every global lookup is refused."""

    def find_class(self, module: str, name: str) -> NoReturn:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from test data")


def decode_private_test_cases(text: str) -> str:
    """The JSON text inside LiveCodeBench's compressed ``private_test_cases``.

    Raises `ProblemFormatError` when the text is not base64 of zlib of a pickled
    string; nothing in the pickle is ever executed.
    """
    try:
        compressed = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ProblemFormatError(f"neither JSON nor base64: {error}") from error
    decompressor = zlib.decompressobj()
    try:
        raw = decompressor.decompress(compressed, _MAX_DECOMPRESSED_BYTES)
    except zlib.error as error:
        raise ProblemFormatError(f"base64 but not zlib data: {error}") from error
    if decompressor.unconsumed_tail:
        raise ProblemFormatError(
            f"decompresses to more than {_MAX_DECOMPRESSED_BYTES} bytes; refusing"
        )
    try:
        value = _DataOnlyUnpickler(io.BytesIO(raw)).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as error:
        raise ProblemFormatError(f"not a pickled string: {error}") from error
    except Exception as error:  # a malformed pickle can raise almost any error
        raise ProblemFormatError(f"not a readable pickle: {error!r}") from error
    if not isinstance(value, str):
        raise ProblemFormatError(f"the pickle holds a {type(value).__name__}, not a string")
    return value


def load_livecodebench(source: RecordSource, *, strict: bool = False) -> LoadResult:
    """Read LiveCodeBench records from a path (JSON, JSON list or JSONL) or dicts.

    Malformed records become errors in the result (or, with ``strict``, the first one
    is raised); the message names the record's index, its id and the field.
    """
    return build_problems(source, _problem_from_record, benchmark="LiveCodeBench", strict=strict)


def select_problems(
    problems: Iterable[Problem],
    *,
    start: date | None = None,
    end: date | None = None,
    difficulty: str | Collection[str] | None = None,
    platform: str | Collection[str] | None = None,
) -> tuple[Problem, ...]:
    """The problems within a contest-date window, of given difficulties and platforms.

    ``start`` and ``end`` are inclusive; a plain ``date`` as ``end`` covers that whole
    day. Problems without a date are left out when a window is given. Names compare
    case-insensitively. Order is kept.
    """
    start_at = _as_datetime(start, end_of_day=False)
    end_at = _as_datetime(end, end_of_day=True)
    difficulties = _lowered(difficulty)
    platforms = _lowered(platform)
    chosen = []
    for problem in problems:
        when = problem.contest_date
        if start_at is not None and (when is None or _naive(when) < start_at):
            continue
        if end_at is not None and (when is None or _naive(when) > end_at):
            continue
        if difficulties is not None and (problem.difficulty or "").lower() not in difficulties:
            continue
        if platforms is not None and problem.platform.lower() not in platforms:
            continue
        chosen.append(problem)
    return tuple(chosen)


def _lowered(names: str | Collection[str] | None) -> frozenset[str] | None:
    if names is None:
        return None
    if isinstance(names, str):
        names = [names]
    return frozenset(name.lower() for name in names)


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def _as_datetime(day: date | None, *, end_of_day: bool) -> datetime | None:
    if day is None:
        return None
    if isinstance(day, datetime):
        return _naive(day)
    return datetime.combine(day, time.max if end_of_day else time.min)


class _Record(RecordFields):
    """A LiveCodeBench record's fields: JSON strings and test lists too."""

    def __init__(self, record: Mapping[str, Any], index: int) -> None:
        super().__init__(record, index, benchmark="LiveCodeBench", id_field="question_id")

    def parse_json(self, field: str, text: str) -> Any:
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as error:
            self.fail(field, f"is not valid JSON: {error}")

    def tests(self, field: str, *, required: bool) -> tuple[list[TestCase], set[ProblemKind]]:
        value = self.record.get(field)
        if value is None or value == "":
            if required:
                self.fail(field, "is missing")
            return [], set()
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                value = self.parse_json(field, value)
            else:
                try:
                    value = self.parse_json(field, decode_private_test_cases(value))
                except ProblemFormatError as error:
                    self.fail(field, f"is not readable: {error}")
        if not isinstance(value, list):
            self.fail(field, "must be a list of tests")
        tests: list[TestCase] = []
        kinds: set[ProblemKind] = set()
        for number, item in enumerate(value):
            if not isinstance(item, Mapping):
                self.fail(field, f"test {number} is not an object")
            test_input, output = item.get("input"), item.get("output")
            if not isinstance(test_input, str) or not isinstance(output, str):
                self.fail(field, f"test {number} needs string 'input' and 'output'")
            test_type = item.get("testtype", "stdin")
            if not isinstance(test_type, str) or test_type not in _TEST_TYPES:
                self.fail(field, f"test {number} has unknown testtype {test_type!r}")
            kinds.add(_TEST_TYPES[test_type])
            tests.append(TestCase(input=test_input, expected=output))
        return tests, kinds


def _problem_from_record(raw: Mapping[str, Any], index: int) -> Problem:
    record = _Record(raw, index)
    question_id = record.text("question_id", required=True)
    statement = record.text("question_content", required=True)
    starter_code = record.text("starter_code")
    metadata_value = raw.get("metadata") or {}
    if isinstance(metadata_value, str):
        metadata_value = record.parse_json("metadata", metadata_value)
    if not isinstance(metadata_value, Mapping):
        record.fail("metadata", "must be a JSON object")
    func_name = metadata_value.get("func_name")
    if func_name is not None and not (isinstance(func_name, str) and func_name):
        record.fail("metadata", "has a 'func_name' that is not a name")
    public, public_kinds = record.tests("public_test_cases", required=True)
    hidden, hidden_kinds = record.tests("private_test_cases", required=False)
    kinds = public_kinds | hidden_kinds
    if len(kinds) > 1:
        record.fail("public_test_cases", "mixes stdin and functional tests")
    kind = ProblemKind.FUNCTIONAL if func_name or ProblemKind.FUNCTIONAL in kinds else None
    entry_point = func_name
    if kind is ProblemKind.FUNCTIONAL and entry_point is None:
        found = find_entry_point(starter_code)
        if found is None:
            record.fail("metadata", "has no 'func_name' and the starter code names no function")
        entry_point = found.name
    contest_date = record.moment("contest_date")
    extra = {key: value for key, value in metadata_value.items() if key != "func_name"}
    return Problem(
        id=question_id,
        statement=statement,
        kind=kind or ProblemKind.STDIN,
        public_tests=tuple(public),
        hidden_tests=tuple(hidden),
        starter_code=starter_code,
        entry_point=entry_point,
        title=record.text("question_title"),
        platform=record.text("platform"),
        difficulty=record.text("difficulty") or None,
        contest_date=contest_date,
        metadata={
            "source": "livecodebench",
            "contest_id": record.text("contest_id"),
            **extra,
        },
    )
