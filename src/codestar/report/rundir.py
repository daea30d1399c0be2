"""What a report is made of, read from a run directory (or a `codestar solve --json` file).

`load_run` reads an evaluation run directory (`codestar eval --run-dir`): the manifest,
the result rows, the summary recomputed from those rows with the same code that wrote
``summary.json`` (so an interrupted run is reported as far as it got), and the traces
per method. It also reads one solve trace (the JSON that `codestar solve --json` prints,
or a directory holding it as ``trace.json``), which becomes a run of one problem.

It only reads and checks; it renders nothing (see `codestar.report.page`).

    >>> run = RunData(source="-", manifest={}, rows=(), traces={})
    >>> run.methods, run.problem_ids
    ((), ())
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codestar.errors import ConfigError
from codestar.evaluation.manifest import read_manifest
from codestar.evaluation.results import RESULTS_FILE, ResultRow, ResultsFile
from codestar.evaluation.summary import Summary, summarize
from codestar.problems.model import Problem

#: A trace: `SolveResult.to_dict()` of one method on one problem.
Trace = Mapping[str, Any]

TRACE_FILE = "trace.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunData:
    """A run to report: rows per problem x method and, where kept, their traces.

    ``traces`` maps (problem id, method) to the trace; ``problems`` maps an id to its
    `Problem` where a problems source was given (for statements and difficulty).
    """

    source: str
    manifest: Mapping[str, Any]
    rows: tuple[ResultRow, ...]
    traces: Mapping[tuple[str, str], Trace]
    problems: Mapping[str, Problem] = field(default_factory=dict)
    _rows: dict[tuple[str, str], ResultRow] = field(init=False, repr=False, compare=False)
    _traces: dict[str, dict[str, Trace]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Indexes, so that a page of 500 problems looks each one up once.
        object.__setattr__(self, "_rows", {(r.problem_id, r.method): r for r in self.rows})
        by_problem: dict[str, dict[str, Trace]] = {}
        for (problem_id, method), trace in self.traces.items():
            by_problem.setdefault(problem_id, {})[method] = trace
        object.__setattr__(self, "_traces", by_problem)

    @property
    def methods(self) -> tuple[str, ...]:
        listed = [str(m) for m in self.manifest.get("methods", ())]
        seen = [row.method for row in self.rows] + [method for _, method in self.traces]
        return tuple(dict.fromkeys([*listed, *seen]))

    @property
    def problem_ids(self) -> tuple[str, ...]:
        listed = [str(p) for p in self.manifest.get("problem_ids", ())]
        seen = [row.problem_id for row in self.rows] + [pid for pid, _ in self.traces]
        done = set(seen)
        return tuple(dict.fromkeys([*(p for p in listed if p in done), *seen]))

    @property
    def summary(self) -> Summary:
        return summarize(self.rows, self.methods)

    def row(self, problem_id: str, method: str) -> ResultRow | None:
        return self._rows.get((problem_id, method))

    def traces_of(self, problem_id: str) -> dict[str, Trace]:
        """The traces of one problem, by method."""
        return dict(self._traces.get(problem_id, {}))

    def with_problems(self, problems: Mapping[str, Problem]) -> RunData:
        return RunData(
            source=self.source,
            manifest=self.manifest,
            rows=self.rows,
            traces=self.traces,
            problems=dict(problems),
        )


def load_run(path: str | Path) -> RunData:
    """The run at ``path``: an eval run dir, a solve trace file, or a dir with ``trace.json``.

    Raises `ConfigError` saying what was expected when ``path`` is none of these.
    """
    where = Path(path)
    if where.is_file():
        return _single(where, _read_trace_file(where))
    if not where.is_dir():
        raise ConfigError(f"{where} does not exist", hint="pass a run directory made by eval")
    if (where / RESULTS_FILE).exists():
        return _evaluation(where)
    if (where / TRACE_FILE).is_file():
        return _single(where, _read_trace_file(where / TRACE_FILE))
    raise ConfigError(
        f"{where} has no {RESULTS_FILE} and no {TRACE_FILE}",
        hint=(
            "pass a `codestar eval --run-dir` directory or a `codestar solve --json` file; "
            "for one solve, `codestar solve --report page.html` writes the page directly"
        ),
    )


def _evaluation(where: Path) -> RunData:
    manifest = read_manifest(where) or {}
    rows = tuple(ResultsFile(where).read())
    traces: dict[tuple[str, str], Trace] = {}
    folder = where / "traces"
    if folder.is_dir():
        for file in sorted(folder.glob("*.jsonl")):
            for trace in _trace_lines(file):
                # A resumed problem may be traced twice; the later line is the kept row's.
                traces[(str(trace["problem_id"]), str(trace["method"]))] = trace
    return RunData(source=str(where), manifest=manifest, rows=rows, traces=traces)


def _trace_lines(file: Path) -> Iterator[Trace]:
    """Every readable trace of ``file``; a line that is not JSON (the torn last write of
    a killed run, say) only leaves its problem without a panel, so it is skipped."""
    for line in file.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            data = json.loads(line)
            if _is_trace(data):
                yield data


def _is_trace(data: Any) -> bool:
    return isinstance(data, dict) and "problem_id" in data and "method" in data


def _read_trace_file(file: Path) -> Trace:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(
            f"cannot read {file} as a solve trace: {error}",
            hint="pass the JSON that `codestar solve --json` prints, or an eval run dir",
        ) from error
    if not _is_trace(data):
        raise ConfigError(
            f"{file} is not a solve trace (no problem_id and method)",
            hint="pass the JSON that `codestar solve --json` prints, or an eval run dir",
        )
    return data  # type: ignore[no-any-return]


def _single(where: Path, trace: Trace) -> RunData:
    problem_id, method = str(trace["problem_id"]), str(trace["method"])
    return RunData(
        source=str(where),
        manifest={"methods": [method], "problem_ids": [problem_id]},
        rows=(),
        traces={(problem_id, method): trace},
    )
