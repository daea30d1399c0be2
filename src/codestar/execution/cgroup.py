"""A memory cgroup per worker: a limit on all the memory a job's processes use.

`RLIMIT_AS` bounds each process's address space, but not the pages of memfds, tmpfs
files or System V shared memory a program fills and closes: those stay in the host's
RAM. A memory cgroup counts them all. Each worker puts the process its children are
forked from (the zygote) in a cgroup of its own, sets the limit per job (the job's
memory limit plus a little for the interpreter's own pages), with no swap, and reads the
kernel's count of out-of-memory kills to tell a memory verdict from any other SIGKILL.

Both hierarchies are supported: cgroup v2 (``memory.max``, ``memory.swap.max=0``,
``memory.events``) where the worker may create a child cgroup with the memory controller,
else cgroup v1 (``memory.limit_in_bytes``, ``memory.memsw.limit_in_bytes``,
``memory.oom_control``). Where neither can be written (no root, no delegation), `open`
says why and the sandbox falls back to bounded memfds (see `codestar.execution.sandbox`).

It does not kill anything itself: the kernel's OOM killer does, inside the cgroup only.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

ROOT = "/sys/fs/cgroup"
#: Room above the job's limit: the pages a forked interpreter copies before the program
#: allocates anything (charged to the cgroup when first written).
HEADROOM_BYTES = 64 * 1024 * 1024


def _own_path(controller: str) -> str | None:
    """This process's cgroup path in the hierarchy of ``controller`` ("" for v2)."""
    with open("/proc/self/cgroup", encoding="utf-8") as handle:
        for line in handle:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if controllers.split(",") == [controller] or (controller == "" == controllers):
                return path
    return None


def _write(path: str, value: str) -> None:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(value)


@dataclass
class MemoryCgroup:
    """One worker's memory cgroup (``version`` 1 or 2, at ``path``)."""

    path: str
    version: int
    limit_bytes: int = 1 << 62  # unlimited, as created

    @classmethod
    def open(cls, name: str) -> MemoryCgroup:
        """Create the cgroup ``name`` under this process's own; OSError says why not."""
        errors = []
        for version in (2, 1):
            try:
                return cls._create(name, version)
            except OSError as error:
                errors.append(f"v{version}: {error.strerror or error}")
        raise OSError(f"no writable memory cgroup ({'; '.join(errors)})")

    @classmethod
    def _create(cls, name: str, version: int) -> MemoryCgroup:
        base = ROOT if version == 2 else f"{ROOT}/memory"
        marker = "cgroup.controllers" if version == 2 else "memory.limit_in_bytes"
        own = _own_path("" if version == 2 else "memory")
        if own is None or not os.path.exists(f"{base}{own}/{marker}"):
            raise FileNotFoundError(2, "not mounted")
        parent = f"{base}{own}".rstrip("/")
        if version == 2:
            with open(f"{parent}/cgroup.controllers", encoding="ascii") as handle:
                if "memory" not in handle.read().split():
                    raise PermissionError(13, "the memory controller is not delegated")
            _write(f"{parent}/cgroup.subtree_control", "+memory")
        path = f"{parent}/{name}"
        with contextlib.suppress(FileExistsError):
            os.mkdir(path)
        group = cls(path, version)
        if version == 2:
            _write(f"{path}/memory.swap.max", "0")
        return group

    def add(self, pid: int) -> None:
        _write(f"{self.path}/cgroup.procs", str(pid))

    def limit(self, job_bytes: int) -> None:
        """All processes together may use ``job_bytes`` (plus the headroom), no swap."""
        value = job_bytes + HEADROOM_BYTES
        if value == self.limit_bytes:
            return
        if self.version == 2:
            _write(f"{self.path}/memory.max", str(value))
        else:
            # memsw (memory + swap) may never be below the memory limit: order the writes
            # (and if what we believe of the current limits is wrong, the other order).
            files = ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]
            if value > self.limit_bytes:
                files.reverse()
            try:
                self._write_all(files, value)
            except OSError:
                self._write_all(files[::-1], value)
        self.limit_bytes = value

    def _write_all(self, names: list[str], value: int) -> None:
        for name in names:
            with contextlib.suppress(FileNotFoundError):  # no swap accounting
                _write(f"{self.path}/{name}", str(value))

    def oom_kills(self) -> int:
        """How many processes the kernel has killed in this cgroup for lack of memory."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            with open(f"{self.path}/{name}", encoding="ascii") as handle:
                for line in handle:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except OSError:
            pass
        return 0

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            os.rmdir(self.path)
