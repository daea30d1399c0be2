"""Starting an engine ahead of its first job, in the background."""

from __future__ import annotations

import os
import time
from pathlib import Path

from codestar.execution.engine import Engine
from codestar.execution.types import Limits, Program
from codestar.problems.model import TestCase


def _children() -> set[int]:
    """Pids whose parent is this process (the engine's workers)."""
    me, found = os.getpid(), set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                found.add(int(name))
    return found


def test_start_without_waiting_spawns_the_workers_in_the_background() -> None:
    before = _children()
    with Engine(workers=2, limits=Limits(timeout_s=2.0)) as engine:
        started = time.monotonic()
        engine.start(wait=False)
        assert time.monotonic() - started < 0.05  # it did not wait for a worker
        deadline = time.monotonic() + 10
        while len(_children() - before) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(_children() - before) == 2  # both workers are up without any job
        engine.start(wait=False)  # idempotent
        assert engine.run(Program("print(input())"), [TestCase("ok\n", "ok")]).passed
    assert _children() - before == set()


def test_an_engine_started_in_the_background_and_closed_unused_leaves_no_worker() -> None:
    before = _children()
    engine = Engine(workers=2)
    engine.start(wait=False)
    engine.close()
    assert _children() - before == set()
