"""The SQLite run store: schema versioning, executions, events, concurrent writers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from codestar.errors import ConfigError
from codestar.llm.store import FILENAME, SCHEMA_VERSION, CallRecord, RunStore, now


def call(key: str, *, error: str | None = None, text: str | None = "answer") -> CallRecord:
    return CallRecord(
        key, "m", "generate", "generator", "p1", 0, "[]", "{}", text, None, "stop",
        3, 4, 0.1, error, now(),
    )  # fmt: skip


def test_new_store_is_migrated_to_the_latest_version_once(tmp_path: Path) -> None:
    with RunStore(tmp_path) as store:
        assert store.schema_version == SCHEMA_VERSION
        store.record_call(call("a"))
    with RunStore(tmp_path) as store:  # reopening runs no migration twice
        assert store.schema_version == SCHEMA_VERSION
        assert [c.key for c in store.calls()] == ["a"]
    with sqlite3.connect(tmp_path / FILENAME) as raw:
        versions = raw.execute("SELECT version FROM schema_version").fetchall()
        assert versions == [(v,) for v in range(1, SCHEMA_VERSION + 1)]
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_store_from_a_newer_codestar_is_refused(tmp_path: Path) -> None:
    RunStore(tmp_path).close()
    with sqlite3.connect(tmp_path / FILENAME) as raw:
        raw.execute("INSERT INTO schema_version VALUES (?, ?)", (SCHEMA_VERSION + 1, now()))
    with pytest.raises(ConfigError, match="newer"):
        RunStore(tmp_path)


def test_answers_are_found_and_failures_are_not(tmp_path: Path) -> None:
    with RunStore(tmp_path) as store:
        store.record_call(call("k", error="BackendError: boom", text=None))
        assert store.find_answer("k") is None
        store.record_call(call("k"))
        found = store.find_answer("k")
        assert found is not None and found.text == "answer" and found.prompt_tokens == 3
        assert len(store.calls()) == 2
        assert store.calls(problem_id="other") == []


def test_executions_round_trip_and_last_write_wins(tmp_path: Path) -> None:
    with RunStore(tmp_path) as store:
        assert store.get_execution("x") is None
        store.put_execution("x", {"verdict": "timeout", "outputs": [1, 2]})
        store.put_execution("x", {"verdict": "accepted", "outputs": [1, 2]})
        assert store.get_execution("x") == {"verdict": "accepted", "outputs": [1, 2]}


def test_events_are_kept_in_order(tmp_path: Path) -> None:
    with RunStore(tmp_path) as store:
        store.record_event("budget", "token budget spent")
        store.record_event("note", "x")
        assert [e.message for e in store.events("budget")] == ["token budget spent"]
        assert [e.kind for e in store.events()] == ["budget", "note"]


def test_concurrent_threads_do_not_lose_writes(tmp_path: Path) -> None:
    store = RunStore(tmp_path)

    def write(thread: int) -> None:
        for i in range(100):
            store.record_call(call(f"t{thread}-{i}"))
            store.put_execution(f"t{thread}-{i}", {"i": i})

    threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.calls()) == 800
    assert store.get_execution("t7-99") == {"i": 99}
    store.close()


WRITER = """
import sys
from codestar.llm.store import CallRecord, RunStore, now
store = RunStore(sys.argv[1])
for i in range(150):
    store.record_call(CallRecord(f"{sys.argv[2]}-{i}", "m", "generate", None, None, i, "[]",
                                 "{}", "x", None, "stop", 1, 1, 0.0, None, now()))
    store.put_execution(f"{sys.argv[2]}-{i}", {"i": i})
store.close()
"""


def test_concurrent_processes_do_not_corrupt_the_store(tmp_path: Path) -> None:
    # The processes also race to create and migrate the brand-new database.
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), f"p{n}"]) for n in range(4)
    ]
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0, 0, 0]
    with RunStore(tmp_path) as store:
        assert len({c.key for c in store.calls()}) == 600
        assert store.schema_version == SCHEMA_VERSION
    with sqlite3.connect(tmp_path / FILENAME) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert raw.execute("SELECT COUNT(*) FROM executions").fetchone() == (600,)
        assert raw.execute("SELECT COUNT(*) FROM schema_version").fetchone() == (SCHEMA_VERSION,)


def test_closed_store_refuses_new_threads(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.close()
    failures: list[BaseException] = []

    def use() -> None:
        try:
            store.get_execution("x")
        except ValueError as error:
            failures.append(error)

    thread = threading.Thread(target=use)
    thread.start()
    thread.join()
    use()  # the thread that opened it, too
    assert len(failures) == 2 and "closed" in str(failures[0])
