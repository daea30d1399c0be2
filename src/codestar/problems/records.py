"""Reading benchmark record files, and the result every loader returns.

A record file is one JSON object, a JSON list of objects, or JSON Lines (optionally
gzip-compressed, by the ``.gz`` suffix). Records can also be given already parsed.
Loaders turn each record into a `Problem` and collect per-record errors in a
`LoadResult`, so one bad record does not hide the other 399.

This module knows nothing about any benchmark's fields; the loaders do.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

from codestar.errors import ProblemFormatError
from codestar.problems.model import Problem

__all__ = [
    "LoadResult",
    "RecordFields",
    "RecordSource",
    "build_problems",
    "first_record",
    "read_records",
    "read_text",
]

RecordSource = str | os.PathLike[str] | Mapping[str, Any] | Iterable[Mapping[str, Any]]
"""A path to a record file, one parsed record, or an iterable of parsed records."""


@dataclass(frozen=True, slots=True)
class LoadResult:
    """The problems read from a source, and an error for each record that was skipped."""

    problems: tuple[Problem, ...] = ()
    errors: tuple[ProblemFormatError, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every record became a problem."""
        return not self.errors


class RecordFields:
    """Field access on one record, with errors that name the record and the field.

    >>> RecordFields({"id": 7}, 3, benchmark="codestar", id_field="id").where
    'codestar record 3 (7)'
    """

    def __init__(
        self, record: Mapping[str, Any], index: int, *, benchmark: str, id_field: str
    ) -> None:
        self.record = record
        identifier = record.get(id_field)
        self.where = f"{benchmark} record {index}" + (
            f" ({identifier})" if isinstance(identifier, str | int) else ""
        )

    def fail(self, field: str, problem: str) -> NoReturn:
        raise ProblemFormatError(f"{self.where}: field {field!r} {problem}")

    def text(self, field: str, *, required: bool = False) -> str:
        """The field as text (integers are written out); ``""`` when absent.

        ``required``: absent or blank is an error.
        """
        value = self.record.get(field)
        if value is None or (required and isinstance(value, str) and not value.strip()):
            if required:
                self.fail(field, "is missing")
            return ""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            self.fail(field, f"must be a string, got {type(value).__name__}")
        return value

    def moment(self, field: str) -> datetime | None:
        """The field as an ISO date or datetime; ``None`` when absent or empty."""
        text = self.text(field)
        if not text:
            return None
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            self.fail(field, f"is not an ISO date: {text!r}")


@dataclass(frozen=True, slots=True)
class _Unreadable:
    """A line of a JSONL file that is not JSON; reported where its record would be."""

    line: int
    reason: str


@contextmanager
def _reading(path: str | os.PathLike[str]) -> Iterator[TextIO]:
    """``path`` open as UTF-8 text (gunzipped for ``.gz``); read errors are format errors."""
    file = Path(path)
    try:
        with (
            gzip.open(file, "rt", encoding="utf-8")
            if file.suffix == ".gz"
            else file.open(encoding="utf-8")
        ) as stream:
            yield stream
    except FileNotFoundError as error:
        raise ProblemFormatError(f"no such problem file: {file}") from error
    except (OSError, UnicodeDecodeError, EOFError) as error:
        raise ProblemFormatError(f"cannot read problem file {file}: {error}") from error


def read_text(path: str | os.PathLike[str]) -> str:
    """The text of ``path`` (gunzipped when it ends in ``.gz``)."""
    with _reading(path) as stream:
        return stream.read()


def first_record(path: str | os.PathLike[str]) -> Mapping[str, Any] | None:
    """The first record of a JSON Lines file, read without reading the rest.

    ``None`` when the first line is not a JSON object on its own (a JSON list, a
    pretty-printed object, or not JSON at all).
    """
    with _reading(path) as stream:
        return _json_object(stream.readline())


def _json_object(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def read_records(source: RecordSource) -> Iterator[Mapping[str, Any] | _Unreadable]:
    """The records of ``source`` in order; unreadable JSONL lines come as markers.

    Raises `ProblemFormatError` when a file is neither JSON nor JSON Lines at all.
    """
    if isinstance(source, Mapping):
        yield source
        return
    if isinstance(source, str | os.PathLike):
        yield from _records_in_file(source)
        return
    yield from source


def _records_in_file(path: str | os.PathLike[str]) -> Iterator[Mapping[str, Any] | _Unreadable]:
    # JSON Lines files (LiveCodeBench's are gigabytes) are read a line at a time; a file
    # whose first line is not a whole object is read in one piece.
    with _reading(path) as stream:
        first_line = stream.readline()
        head = _json_object(first_line)
        if head is not None:
            yield head
            for number, line in enumerate(stream, start=2):
                if line.strip():
                    yield _json_object_or_marker(line, number)
            return
        text = first_line + stream.read()
    yield from _records_in_text(text, str(path))


def _json_object_or_marker(line: str, number: int) -> Any:
    try:
        return json.loads(line)
    except (ValueError, RecursionError) as error:
        return _Unreadable(number, f"invalid JSON: {error}")


def _records_in_text(text: str, origin: str) -> Iterator[Mapping[str, Any] | _Unreadable]:
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None  # not one JSON document; try JSON Lines below
    except RecursionError as error:
        raise ProblemFormatError(f"{origin}: JSON nested too deeply") from error
    if isinstance(whole, dict):
        yield whole
        return
    if isinstance(whole, list):
        yield from whole
        return
    if whole is not None or not text.lstrip().startswith("{"):
        raise ProblemFormatError(
            f"{origin} is not a JSON object, a JSON list or JSON Lines of records"
        )
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield _json_object_or_marker(line, number)


def build_problems(
    source: RecordSource,
    build: Callable[[Mapping[str, Any], int], Problem],
    *,
    benchmark: str,
    strict: bool,
) -> LoadResult:
    """Apply ``build(record, index)`` to every record, collecting `ProblemFormatError`s.

    With ``strict`` the first error is raised instead. ``benchmark`` names the format in
    messages about records that are not even objects.
    """
    problems: list[Problem] = []
    errors: list[ProblemFormatError] = []
    for index, record in enumerate(read_records(source)):
        try:
            if isinstance(record, _Unreadable):
                raise ProblemFormatError(
                    f"{benchmark} record {index} (line {record.line}): {record.reason}"
                )
            if not isinstance(record, Mapping):
                raise ProblemFormatError(
                    f"{benchmark} record {index}: expected a JSON object, "
                    f"got {type(record).__name__}"
                )
            problems.append(build(record, index))
        except ProblemFormatError as error:
            if strict:
                raise
            errors.append(error)
    return LoadResult(tuple(problems), tuple(errors))
