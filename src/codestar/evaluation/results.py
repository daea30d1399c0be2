"""One row per problem x method: what an evaluation found, as `results.jsonl` holds it.

A `ResultRow` says whether the method's selected program passed the problem's hidden
tests, how the pool of candidates it chose from did (pass@N), what the model calls cost
per stage (new calls and calls reused from the run store), how long it took, the program
itself and, when the problem could not be finished, why. `ResultsFile` appends rows as
they finish (one line each, flushed and fsynced: a killed run keeps every finished row)
and reads them back on resume, ignoring a torn last line.

It does not grade or summarize (see `codestar.evaluation.runner` and `.summary`).

    >>> row = ResultRow(problem_id="p1", method="sstar", passed=True, hidden_tests=3)
    >>> ResultRow.from_dict(row.to_dict()) == row
    True
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from codestar.errors import ConfigError

RESULTS_FILE = "results.jsonl"


def _frozen(value: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True, slots=True, kw_only=True)
class StageUsage:
    """Tokens and calls of one stage; ``reused_calls`` of them answered by the run store
    (or by an identical call another method had in flight): they cost nothing."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    reused_calls: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def new_calls(self) -> int:
        return self.calls - self.reused_calls

    def __add__(self, other: StageUsage) -> StageUsage:
        return StageUsage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            calls=self.calls + other.calls,
            reused_calls=self.reused_calls + other.reused_calls,
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "calls": self.calls,
            "reused_calls": self.reused_calls,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultRow:
    """A method's outcome on one problem.

    ``passed`` is ``None`` when nothing could be graded: the problem has no hidden tests
    (``hidden_tests == 0``) or the method ended in an ``error``. ``pool_passed`` counts
    the candidates of the pool whose program passes the hidden tests (``None`` when not
    graded) out of ``pool_size`` candidates, so ``pool_passed / pool_size`` is the
    chance that a random pick passes; ``samples_passed`` counts the candidates whose
    *undebugged* sample (first program) passes, the ceiling before debugging;
    ``public_pool_passed`` counts the candidates that pass both the public and the
    hidden tests (see `random_pick`). ``stopped`` says
    why the method stopped early (a budget, the problem's time limit) and selected from
    what had finished. ``uses_hidden_tests`` marks a bound (the oracle), not a selector.
    """

    problem_id: str
    method: str
    passed: bool | None = None
    hidden_tests: int = 0
    hidden_passed: int = 0
    public_tests: int = 0
    public_passed: int = 0
    difficulty: str | None = None
    platform: str = ""
    candidates: int = 0
    candidates_passing_public: int = 0
    pool_size: int = 0
    pool_passed: int | None = None
    samples_passed: int | None = None
    public_pool_passed: int | None = None
    clusters: int = 0
    comparisons: int = 0
    selection_rule: str = ""
    usage: Mapping[str, StageUsage] = field(default_factory=_frozen)
    wall_s: float = 0.0
    program: str | None = None
    stopped: str | None = None
    error: str | None = None
    uses_hidden_tests: bool = False

    @property
    def graded(self) -> bool:
        return self.passed is not None

    @property
    def pool_solved(self) -> bool | None:
        """Whether any candidate of the pool passes (pass@N), ``None`` if not graded."""
        return None if self.pool_passed is None else self.pool_passed > 0

    @property
    def samples_solved(self) -> bool | None:
        """Whether any undebugged sample passes (pass@N before debugging)."""
        return None if self.samples_passed is None else self.samples_passed > 0

    @property
    def random_pick(self) -> float | None:
        """The chance that a uniform pick among the candidates that pass the public tests
        (among all candidates when none does) passes the hidden tests: the exact value
        of what `public-only` draws once with its seed. ``None`` if the pool was not
        graded."""
        if self.pool_passed is None or self.public_pool_passed is None:
            return None
        if self.candidates_passing_public:
            return self.public_pool_passed / self.candidates_passing_public
        return self.pool_passed / self.pool_size if self.pool_size else 0.0

    @property
    def total_usage(self) -> StageUsage:
        return sum(self.usage.values(), StageUsage())

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["usage"] = {stage: usage.to_dict() for stage, usage in self.usage.items()}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResultRow:
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["usage"] = MappingProxyType(
            {
                stage: StageUsage(**{k: int(v) for k, v in usage.items() if k in _USAGE_KEYS})
                for stage, usage in (data.get("usage") or {}).items()
            }
        )
        return cls(**values)


_USAGE_KEYS = {f.name for f in fields(StageUsage)}


class ResultsFile:
    """``results.jsonl`` in a run directory: rows appended as they finish."""

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / RESULTS_FILE

    def read(self) -> list[ResultRow]:
        """Every complete row; a torn last line (a killed write) is ignored.

        A later row for the same problem and method replaces an earlier one.
        """
        rows: dict[tuple[str, str], ResultRow] = {}
        for data in self._records():
            row = ResultRow.from_dict(data)
            rows[(row.problem_id, row.method)] = row
        return list(rows.values())

    def _records(self) -> Iterator[dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        lines = text.split("\n")
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as error:
                if number >= len(lines) - 1:
                    return  # the write a kill interrupted; its row is simply redone
                raise ConfigError(
                    f"{self.path} line {number} is not JSON ({error.msg})",
                    hint="the file was edited or damaged; remove that line to redo its row",
                ) from error
            if isinstance(data, dict):
                yield data

    def append(self, row: ResultRow) -> None:
        """Add ``row`` durably (flushed and fsynced before returning).

        A torn last line (a write a kill interrupted) is cut off first.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(row.to_dict(), ensure_ascii=False, allow_nan=False)
        append_line(self.path, line, durable=True)


def append_line(path: Path, line: str, *, durable: bool = False) -> None:
    """Append ``line`` to a JSON-lines file, first cutting off a torn last line (a
    write a kill interrupted), so the new line never runs on from a broken one.
    ``durable``: flushed and fsynced before returning."""
    _cut_torn_tail(path)
    with path.open("a", encoding="utf-8") as file:
        file.write(line + "\n")
        if durable:
            file.flush()
            os.fsync(file.fileno())


def _cut_torn_tail(path: Path, chunk: int = 1 << 16) -> None:
    """Cut ``path`` after its last newline, reading only its end: the file grows with a
    run, and this runs before every append."""
    try:
        file = path.open("r+b")
    except FileNotFoundError:
        return
    with file:
        end = file.seek(0, os.SEEK_END)
        if end == 0:
            return
        file.seek(end - 1)
        if file.read(1) == b"\n":
            return
        position = end
        while position > 0:
            start = max(0, position - chunk)
            file.seek(start)
            newline = file.read(position - start).rfind(b"\n")
            if newline >= 0:
                file.truncate(start + newline + 1)
                return
            position = start
        file.truncate(0)  # not one complete line


def usage_of(usage: Mapping[str, Any], cached: Mapping[str, Any]) -> dict[str, StageUsage]:
    """Per-stage `StageUsage` from a `SolveResult`'s ``usage`` and ``cached`` maps."""
    result = {}
    for stage, tally in usage.items():
        reused = cached.get(stage)
        result[stage] = StageUsage(
            prompt_tokens=tally.prompt_tokens,
            completion_tokens=tally.completion_tokens,
            calls=tally.calls,
            reused_calls=reused.calls if reused is not None else 0,
        )
    return result


__all__ = ["RESULTS_FILE", "ResultRow", "ResultsFile", "StageUsage", "usage_of"]
