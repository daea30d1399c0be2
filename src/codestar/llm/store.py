"""The run store: one SQLite file per run directory recording every call and execution.

``<run_dir>/run.sqlite`` holds every model request and response (`CallRecord`: rendered
messages, parameters, role, stage, problem, sample index, text, reasoning, usage,
latency, error), every execution outcome the engine reports (opaque JSON payloads under
a key of the engine's choosing) and run events (such as why a budget stopped the run).

It is safe with concurrent writers, threads and processes alike: WAL journal, one
connection per thread, a generous ``busy_timeout``, and every write a single statement
in its own transaction, so a process killed with ``kill -9`` leaves every finished
write in place. The schema is versioned: `MIGRATIONS` is an append-only list, the
``schema_version`` table says how many have run, and opening a store runs the rest.

It does not decide what is cached or how keys are made: `codestar.llm.stored` does.

    >>> import tempfile
    >>> with RunStore(tempfile.mkdtemp()) as store:
    ...     store.put_execution("k", {"verdict": "accepted"})
    ...     store.get_execution("k")
    {'verdict': 'accepted'}
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from codestar.errors import ConfigError

FILENAME = "run.sqlite"

#: Append-only: migration ``i`` (its statements run in one transaction) takes the schema
#: from version ``i`` to ``i + 1``. Never edit a released entry; add a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE llm_calls (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL,
            model TEXT NOT NULL,
            stage TEXT NOT NULL,
            role TEXT,
            problem_id TEXT,
            sample_index INTEGER NOT NULL,
            messages TEXT NOT NULL,
            params TEXT NOT NULL,
            text TEXT,
            reasoning TEXT,
            finish_reason TEXT,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            latency_s REAL NOT NULL DEFAULT 0,
            error TEXT,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX llm_calls_answers ON llm_calls (key) WHERE error IS NULL",
        "CREATE INDEX llm_calls_problem ON llm_calls (problem_id, stage)",
        """CREATE TABLE executions (
            key TEXT PRIMARY KEY,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            message TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)

_CALL_COLUMNS = (
    "key, model, stage, role, problem_id, sample_index, messages, params, text, reasoning, "
    "finish_reason, prompt_tokens, completion_tokens, latency_s, error, created_at"
)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One model call as stored: the rendered request and the answer or the error.

    ``messages`` and ``params`` are JSON texts exactly as keyed; ``text`` is ``None``
    when the call failed (then ``error`` says why). Fields are in column order.
    """

    key: str
    model: str
    stage: str
    role: str | None
    problem_id: str | None
    sample_index: int
    messages: str
    params: str
    text: str | None
    reasoning: str | None
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    error: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class Event:
    kind: str
    message: str
    created_at: str


def prepare_run_dir(run_dir: str | Path) -> Path:
    """Create ``run_dir`` (and its parents) and check that files can be written there.

    Raises `ConfigError` naming the directory and the reason (a read-only filesystem, a
    path under a regular file, ``/proc``...), so that a command can refuse a bad
    ``--run-dir`` before it starts a model.

        >>> prepare_run_dir("/proc/codestar-run")
        Traceback (most recent call last):
        ...
        codestar.errors.ConfigError: cannot use /proc/codestar-run as a run directory: ...
    """
    path = Path(run_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".codestar-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise _unusable(path, error) from error
    return path


def _unusable(path: Path, error: OSError | sqlite3.Error) -> ConfigError:
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    filename = error.filename if isinstance(error, OSError) else None
    where = f" ({filename})" if filename and str(filename) != str(path) else ""
    return ConfigError(
        f"cannot use {path} as a run directory: {reason}{where}",
        hint="pass a --run-dir in a writable place, e.g. --run-dir runs/p1",
    )


def now() -> str:
    """The current UTC time as ISO 8601 text (how every ``created_at`` is written)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class RunStore:
    """The SQLite database of one run directory; usable from any thread or process."""

    def __init__(self, run_dir: str | Path, *, busy_timeout_s: float = 60.0) -> None:
        self.run_dir = prepare_run_dir(run_dir)
        self.path = self.run_dir / FILENAME
        self._busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        try:
            self._migrate(self._connection())
        except (OSError, sqlite3.Error) as error:
            self.close()
            raise _unusable(self.run_dir, error) from error

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every thread's connection; safe to call twice."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None and not self._closed:
            return connection
        with self._lock:
            if self._closed:
                raise ValueError(f"the run store {self.path} is closed")
            # isolation_level=None: autocommit, so each write commits by itself and a
            # killed process never leaves a half-open transaction holding finished work.
            connection = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
            self._connections.append(connection)
        connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_s * 1000)}")
        _retry_locked(lambda: connection.execute("PRAGMA journal_mode = WAL"))
        # NORMAL in WAL mode survives a killed process; only a power cut may lose the tail.
        connection.execute("PRAGMA synchronous = NORMAL")
        self._local.connection = connection
        return connection

    def _migrate(self, connection: sqlite3.Connection) -> None:
        # BEGIN IMMEDIATE takes the write lock, so processes opening the same new run
        # directory at once migrate it exactly once.
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            row = connection.execute("SELECT MAX(version) FROM schema_version").fetchone()
            current = int(row[0] or 0)
            if current > SCHEMA_VERSION:
                raise ConfigError(
                    f"{self.path} has schema version {current}, newer than this codestar's "
                    f"{SCHEMA_VERSION}",
                    hint="upgrade codestar or use another --run-dir",
                )
            for version in range(current, SCHEMA_VERSION):
                for statement in MIGRATIONS[version]:
                    connection.execute(statement)
                connection.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                    (version + 1, now()),
                )
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        row = self._connection().execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def record_call(self, record: CallRecord) -> None:
        """Append one call (answered or failed)."""
        values = (
            record.key, record.model, record.stage, record.role, record.problem_id,
            record.sample_index, record.messages, record.params, record.text,
            record.reasoning, record.finish_reason, record.prompt_tokens,
            record.completion_tokens, record.latency_s, record.error, record.created_at,
        )  # fmt: skip
        self._connection().execute(
            f"INSERT INTO llm_calls ({_CALL_COLUMNS}) VALUES ({', '.join('?' * len(values))})",
            values,
        )

    def find_answer(self, key: str) -> CallRecord | None:
        """The first successful call stored under ``key``, if any."""
        row = (
            self._connection()
            .execute(
                f"SELECT {_CALL_COLUMNS} FROM llm_calls WHERE key = ? AND error IS NULL "
                "ORDER BY id LIMIT 1",
                (key,),
            )
            .fetchone()
        )
        return CallRecord(*row) if row is not None else None

    def calls(self, *, problem_id: str | None = None) -> list[CallRecord]:
        """Every stored call in order (of one problem when given), failures included."""
        query = f"SELECT {_CALL_COLUMNS} FROM llm_calls"
        arguments: tuple[str, ...] = ()
        if problem_id is not None:
            query += " WHERE problem_id = ?"
            arguments = (problem_id,)
        rows = self._connection().execute(query + " ORDER BY id", arguments)
        return [CallRecord(*row) for row in rows]

    def put_execution(self, key: str, payload: Any) -> None:
        """Store a JSON-serialisable execution outcome under ``key`` (last write wins)."""
        self._connection().execute(
            "INSERT OR REPLACE INTO executions (key, payload, created_at) VALUES (?, ?, ?)",
            (key, json.dumps(payload, sort_keys=True), now()),
        )

    def get_execution(self, key: str) -> Any | None:
        """The payload stored under ``key``, decoded, or ``None``."""
        row = (
            self._connection()
            .execute("SELECT payload FROM executions WHERE key = ?", (key,))
            .fetchone()
        )
        return json.loads(row[0]) if row is not None else None

    def record_event(self, kind: str, message: str) -> None:
        """Note something about the run as a whole (``budget``: why it stopped...)."""
        self._connection().execute(
            "INSERT INTO events (kind, message, created_at) VALUES (?, ?, ?)",
            (kind, message, now()),
        )

    def events(self, kind: str | None = None) -> list[Event]:
        query = "SELECT kind, message, created_at FROM events"
        arguments: tuple[str, ...] = ()
        if kind is not None:
            query, arguments = query + " WHERE kind = ?", (kind,)
        rows = self._connection().execute(query + " ORDER BY id", arguments)
        return [Event(*row) for row in rows]


def _retry_locked(statement: Any, attempts: int = 50) -> Any:
    """Run ``statement()``, waiting out 'database is locked' while another process
    switches the journal mode (that pragma does not always honour ``busy_timeout``)."""
    for attempt in range(attempts):
        try:
            return statement()
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.05)
    return None
