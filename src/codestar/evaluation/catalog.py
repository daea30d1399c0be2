"""What run directories there are: `codestar eval` runs and `codestar solve --run-dir` runs.

`find_runs` looks at the folders under a root (``runs/`` by default) and describes each
one that holds a run: an *eval* run by its ``manifest.json`` and ``summary.json`` (the
benchmark, methods, models, problems, pass@1 per method, tokens), a *solve* run by its
run store (the model, problems and tokens of the calls it recorded). The store is
opened read-only: listing never creates, migrates or locks anything. An eval that is
running now is marked with its pid (read from ``/proc/locks``, see
`codestar.evaluation.lock`); a run whose rows are newer than its ``summary.json`` (going
on, or stopped before its end) is summarized from its rows so far.

It does not resume or change runs.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from codestar.errors import ConfigError
from codestar.evaluation.lock import holder
from codestar.evaluation.manifest import MANIFEST_FILE
from codestar.evaluation.results import RESULTS_FILE, ResultsFile
from codestar.evaluation.runner import SUMMARY_FILE
from codestar.evaluation.summary import summarize
from codestar.llm.store import FILENAME as STORE_FILE


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One run directory, as `codestar runs` lists it."""

    path: Path
    kind: Literal["eval", "solve"]
    created: str
    models: tuple[str, ...] = ()
    benchmark: str = ""
    methods: tuple[str, ...] = ()
    problems: int = 0
    pass_at_1: Mapping[str, float | None] = field(default_factory=dict)
    tokens: int = 0
    calls: int = 0
    #: The pid of the `codestar eval` running in it now (its lock's holder), or None.
    running: int | None = None
    #: False when rows were added after the last summary (a run going on or stopped
    #: before its end): pass@1 and tokens are then those of the rows so far.
    finished: bool = True
    #: Problems with at least one row (all of them once a run has finished).
    problems_done: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "kind": self.kind,
            "created": self.created,
            "models": list(self.models),
            "benchmark": self.benchmark,
            "methods": list(self.methods),
            "problems": self.problems,
            "pass_at_1": dict(self.pass_at_1),
            "tokens": self.tokens,
            "calls": self.calls,
            "running_pid": self.running,
            "finished": self.finished,
            "problems_done": self.problems_done,
        }


def find_runs(root: str | Path) -> list[RunInfo]:
    """Every run directory directly under ``root`` (or ``root`` itself), newest first."""
    base = Path(root)
    if not base.is_dir():
        return []
    candidates = [base, *sorted(p for p in base.iterdir() if p.is_dir())]
    runs = [info for p in candidates if (info := describe(p)) is not None]
    return sorted(runs, key=lambda r: r.created, reverse=True)


def describe(path: Path) -> RunInfo | None:
    """The run in ``path``, or ``None`` when it holds none."""
    if (path / MANIFEST_FILE).is_file():
        return _eval_run(path)
    if (path / STORE_FILE).is_file():
        return _solve_run(path)
    return None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _current_summary(path: Path, methods: list[str]) -> tuple[dict[str, Any], bool]:
    """The run's summary and whether it is up to date: ``summary.json`` when it is newer
    than ``results.jsonl``, else one made from the rows so far (a run going on, or
    stopped before its end)."""
    summary_file, results_file = path / SUMMARY_FILE, path / RESULTS_FILE
    try:
        rows_changed = results_file.stat().st_mtime_ns
    except OSError:
        return _read_json(summary_file), True
    try:
        summarized = summary_file.stat().st_mtime_ns
    except OSError:
        summarized = -1
    if summarized >= rows_changed:
        return _read_json(summary_file), True
    try:
        rows = ResultsFile(path).read()
    except ConfigError:
        return _read_json(summary_file), False
    return summarize(rows, methods or None).to_dict(), False


def _eval_run(path: Path) -> RunInfo:
    manifest = _read_json(path / MANIFEST_FILE)
    wanted = [str(m) for m in manifest.get("methods", [])]
    summary, finished = _current_summary(path, wanted)
    methods = summary.get("methods") or {}
    rates = {
        name: (data.get("pass_at_1") or {}).get("rate")
        for name, data in methods.items()
        if isinstance(data, dict)
    }
    tokens = sum(
        int((data.get("total_usage") or {}).get("total_tokens", 0))
        for data in methods.values()
        if isinstance(data, dict)
    )
    calls = sum(
        int(data.get("new_calls", 0)) for data in methods.values() if isinstance(data, dict)
    )
    models = manifest.get("models") or {}
    benchmark = manifest.get("benchmark") or {}
    return RunInfo(
        path=path,
        kind="eval",
        created=str(manifest.get("resumed") or manifest.get("created") or ""),
        models=tuple(dict.fromkeys(str(m) for m in models.values())),
        benchmark=str(benchmark.get("name", "")),
        methods=tuple(str(m) for m in manifest.get("methods", [])),
        problems=len(manifest.get("problem_ids", [])),
        pass_at_1=rates,
        tokens=tokens,
        calls=calls,
        running=holder(path),
        finished=finished,
        problems_done=int(summary.get("problems", 0) or 0),
    )


def _solve_run(path: Path) -> RunInfo | None:
    uri = f"{(path / STORE_FILE).resolve().as_uri()}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=5)
        try:
            row = connection.execute(
                "SELECT COUNT(*), COALESCE(SUM(prompt_tokens + completion_tokens), 0), "
                "COUNT(DISTINCT problem_id), MAX(created_at) FROM llm_calls"
            ).fetchone()
            models = [m for (m,) in connection.execute("SELECT DISTINCT model FROM llm_calls")]
        finally:
            connection.close()
    except sqlite3.Error:
        return None
    calls, tokens, problems, last = row
    created = last or datetime.fromtimestamp((path / STORE_FILE).stat().st_mtime, UTC).isoformat()
    return RunInfo(
        path=path,
        kind="solve",
        created=str(created),
        models=tuple(models),
        problems=int(problems),
        tokens=int(tokens),
        calls=int(calls),
    )
