"""One evaluation at a time per run directory.

Two `codestar eval` processes on the same ``--run-dir`` (a command started twice, in
two terminals or by a scheduler) would both ask the model every call that is not yet
in the store, and append to the same ``results.jsonl``, where one process's repair of
a torn last line can cut a row the other is writing. So an evaluation holds an
exclusive lock on ``RUN_DIR/.lock`` while it runs, and a second one is refused with
the holder's process id.

The lock is an advisory ``flock``: the kernel drops it when its process ends, however
it ends, so a run killed with SIGKILL leaves nothing stale behind and resumes at once.
It is re-entrant within one process (the CLI takes it before it writes the manifest,
`evaluate` takes it again). Readers (`codestar report`, `codestar runs`) do not take it;
`holder` tells them, from ``/proc/locks`` and without touching the lock, whether a run
is going on.

    >>> import tempfile
    >>> run_dir = tempfile.mkdtemp()
    >>> with hold_run_dir(run_dir):
    ...     with hold_run_dir(run_dir):  # the same process may take it again
    ...         pass
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from codestar.errors import ConfigError

LOCK_FILE = ".lock"

# errno values of a filesystem that cannot lock at all
_NO_LOCKS = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL})

# resolved run directory -> (the open lock file's descriptor, how many holders)
_held: dict[Path, tuple[int, int]] = {}


def holder(run_dir: str | Path) -> int | None:
    """The pid of the process that holds ``run_dir``'s lock now, or None (no lock held,
    or a system without ``/proc/locks``). It only reads: it never takes the lock.

    >>> import tempfile
    >>> run_dir = tempfile.mkdtemp()
    >>> holder(run_dir) is None
    True
    >>> with hold_run_dir(run_dir):
    ...     holder(run_dir) == os.getpid()
    True
    """
    try:
        stat = (Path(run_dir) / LOCK_FILE).stat()
        table = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    where = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    for line in table.splitlines():
        # "1: FLOCK  ADVISORY  WRITE 23208 fe:00:2146306 0 EOF"
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == where:
            return int(fields[4]) if fields[4].isdigit() else None
    return None


def _pid_written_in(fd: int) -> str:
    """The pid the holder wrote into the lock file, as text ('' when unreadable). Unlike
    `holder`, this needs no ``/proc``, so the refusal names the pid on every system."""
    try:
        return os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""


@contextlib.contextmanager
def hold_run_dir(run_dir: str | Path) -> Iterator[None]:
    """Hold ``run_dir``'s lock for the block; `ConfigError` if another process holds it."""
    key = Path(run_dir).resolve()
    if key in _held:
        fd, depth = _held[key]
        _held[key] = (fd, depth + 1)
        try:
            yield
        finally:
            fd, depth = _held[key]
            _held[key] = (fd, depth - 1)
        return
    try:
        key.mkdir(parents=True, exist_ok=True)
        fd = os.open(key / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as error:
        raise ConfigError(
            f"cannot write the run directory {run_dir} ({error.strerror or error})",
            hint="pass --run-dir with a writable directory",
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = _pid_written_in(fd)
        os.close(fd)
        by = f"another codestar eval (pid {pid})" if pid.isdigit() else "another codestar eval"
        raise ConfigError(
            f"the run directory {run_dir} is in use by {by}",
            hint="wait for it to finish or stop it, then rerun to resume; "
            "or pass another --run-dir",
        ) from None
    except OSError as error:
        if error.errno not in _NO_LOCKS:
            os.close(fd)
            raise
        # A filesystem without flock (some FUSE and network mounts): go on unguarded,
        # as before there was a lock; a second eval there is the user's to avoid.
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _held[key] = (fd, 1)
    try:
        yield
    finally:
        fd, depth = _held[key]
        if depth > 1:  # an inner holder (another task of this process) is still in
            _held[key] = (fd, depth - 1)
        else:
            del _held[key]
            os.close(fd)  # releases the flock
