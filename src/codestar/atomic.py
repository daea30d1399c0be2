"""Atomic file writes: a reader (or a run killed mid-write) never sees half a file.

The text goes to a temporary file beside the target, which then replaces it in one
rename. The file gets the permissions a plain ``open(path, "w")`` would give (0666 less
the umask), not the 0600 of a temporary file.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> write_text_atomic(target, "hi")
    >>> target.read_text()
    'hi'
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` (its folder created if needed) in one rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            os.fchmod(file.fileno(), 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
