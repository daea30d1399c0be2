"""One evaluation at a time per run directory: a second process is refused with the
holder's pid, the same process may nest, and a holder killed with SIGKILL leaves no
stale lock behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from codestar.errors import ConfigError
from codestar.evaluation.lock import LOCK_FILE, hold_run_dir

HOLD = """
import sys, time
from codestar.evaluation.lock import hold_run_dir
with hold_run_dir(sys.argv[1]):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture()
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path / "run")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "held"
        yield process
    finally:
        process.kill()
        process.wait(timeout=30)


def test_a_second_process_is_refused_with_the_holders_pid(
    holder: subprocess.Popen[str], tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as caught, hold_run_dir(tmp_path / "run"):
        pass
    message = str(caught.value)
    assert f"pid {holder.pid}" in message
    assert "--run-dir" in message


def test_a_holder_killed_with_sigkill_leaves_no_stale_lock(
    holder: subprocess.Popen[str], tmp_path: Path
) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    assert (tmp_path / "run" / LOCK_FILE).exists()
    with hold_run_dir(tmp_path / "run"):
        held_by = (tmp_path / "run" / LOCK_FILE).read_text().strip()
    assert held_by == str(os.getpid())


def test_the_same_process_may_nest_and_releases_at_the_outer_exit(tmp_path: Path) -> None:
    probe = [sys.executable, "-c", HOLD.replace("time.sleep(120)", "pass"), str(tmp_path)]
    with hold_run_dir(tmp_path):
        with hold_run_dir(tmp_path / "." / ""):  # the same directory, spelt otherwise
            pass
        refused = subprocess.run(probe, capture_output=True, text=True, timeout=60)
        assert refused.returncode != 0 and "in use by" in refused.stderr
    released = subprocess.run(probe, capture_output=True, text=True, timeout=60)
    assert released.returncode == 0 and released.stdout.strip() == "held"


def test_a_run_directory_that_cannot_be_written_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with (
        pytest.raises(ConfigError, match="cannot write the run directory"),
        hold_run_dir(blocker / "run"),
    ):
        pass


def test_a_filesystem_without_locks_goes_on_unguarded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import fcntl

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with hold_run_dir(tmp_path):
        pass
