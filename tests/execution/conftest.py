"""Shared engines for the execution tests, and the check that a hostile test left nothing."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from codestar.execution.engine import Engine
from codestar.execution.types import Limits, Program
from codestar.problems.model import TestCase


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """One warm engine for the whole session: the tests also prove it stays healthy."""
    with Engine(workers=2, limits=Limits(timeout_s=2.0, memory_mb=512)) as shared:
        yield shared


def sandbox_processes(uids: range) -> list[int]:
    """Host pids whose real uid is one of ``uids``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            status = Path(f"/proc/{name}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:") and int(line.split()[1]) in uids:
                found.append(int(name))
    return found


@pytest.fixture()
def strict(engine: Engine) -> Iterator[Engine]:
    """The shared engine, checked after the test for survivors and for health."""
    yield engine
    if "uid-separation" in engine.isolation.active:
        deadline = time.monotonic() + 2
        while sandbox_processes(engine.program_uids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sandbox_processes(engine.program_uids) == [], "a sandboxed process survived"
    assert engine.run(Program("print(input())"), [TestCase("ok\n", "ok")]).passed
