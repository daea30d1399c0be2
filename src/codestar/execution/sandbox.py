"""The worker's sandbox state: which isolation layers it set up, per-job resets, the sweep.

`Sandbox` is created once per worker process. It enters the namespaces (the worker then
continues as pid 1 of its own pid namespace), makes the host read-only and covers the
world-writable directories (`codestar.execution.mounts`), opens a memory cgroup
(`codestar.execution.cgroup`), decides which uid the programs run as, gives the zygote
its syscall filter, renews the per-job state before each job and kills whatever a job
leaves behind. The layers themselves are in `codestar.execution.isolation`; running jobs
is `codestar.execution.worker`.

The worker itself is not under the syscall filter: it must mount a fresh tmpfs for each
job. It never runs untrusted code; the zygote and every child are filtered.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
import time
from collections.abc import Collection
from typing import Any

from codestar.execution import isolation, mounts
from codestar.execution.cgroup import MemoryCgroup

#: How long killing a job's leftovers may take before the worker gives up on them.
SWEEP_DEADLINE_S = 5.0
#: Open files per process without a memory cgroup: with the file-size limit, this bounds
#: the memfd pages a program can pin (RLIMIT_AS does not count them).
FILES_WITHOUT_CGROUP = 64
FILES_WITH_CGROUP = 1024


class Sandbox:
    """The worker's isolation state: which layers it set up, and who children become."""

    def __init__(self, mode: str, uid: int | None) -> None:
        self.requested = mode
        self.active: list[str] = ["rlimits", "clean-environment", "scratch-directory"]
        self.inactive: dict[str, str] = {}
        self.namespaces = False
        self.child_uid: int | None = None
        self.scratch: mounts.Scratch | None = None
        self.cgroup: MemoryCgroup | None = None
        self.scratch_root = tempfile.gettempdir()
        self._setup(mode, uid)

    def _setup(self, mode: str, uid: int | None) -> None:
        is_root = os.geteuid() == 0
        if mode != "minimal" and sys.platform.startswith("linux"):
            try:
                isolation.enter_namespaces(as_root=is_root)
            except OSError as error:
                if mode == "namespaces":
                    raise
                reason = f"namespaces unavailable: {error.strerror or error}"
                for layer in ("network-namespace", "pid-namespace", "mount-namespace"):
                    self.inactive[layer] = reason
            else:
                self._become_namespace_init()
                self.namespaces = True
                self.active += ["network-namespace", "pid-namespace", "mount-namespace"]
        else:
            reason = "minimal isolation requested" if mode == "minimal" else "not Linux"
            for layer in ("network-namespace", "pid-namespace", "mount-namespace"):
                self.inactive[layer] = reason
        if self.namespaces:
            self._setup_file_system()
        else:
            self.inactive["read-only-host"] = "needs a mount namespace"
        if is_root and self.namespaces and uid is not None:
            self.child_uid = uid
            self.active.append("uid-separation")
        else:
            self.inactive["uid-separation"] = (
                "needs root and namespaces" if not is_root or not self.namespaces else "no uid"
            )
        if not self.namespaces:
            with contextlib.suppress(OSError, AttributeError):
                isolation.prctl(isolation.PR_SET_CHILD_SUBREAPER, 1)
        # The worker is not filtered and must not be readable by what runs as its uid.
        with contextlib.suppress(OSError, AttributeError):
            isolation.prctl(isolation.PR_SET_DUMPABLE, 0)
        self._setup_cgroup()

    def _become_namespace_init(self) -> None:
        """Fork; the child is pid 1 of the new pid namespace and carries on as the worker."""
        pid = os.fork()
        if pid:
            # The outer process only mirrors the inner one's exit; if it is killed, the
            # inner one gets SIGKILL (parent-death signal) and the namespace goes with it.
            _, status = os.waitpid(pid, 0)
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)

    def _setup_file_system(self) -> None:
        isolation.mount("none", "/", None, isolation.MS_REC | isolation.MS_PRIVATE, None)
        writable = mounts.world_writable_directories()
        refused = mounts.make_host_read_only()
        mounts.hide_closed_directories(writable)
        isolation.mount_proc()
        self.scratch = mounts.Scratch(writable)
        self.scratch.renew(mounts.SMALL_TMPFS_BYTES)
        if refused:
            self.inactive["read-only-host"] = f"could not remount {', '.join(refused)}"
        else:
            self.active.append("read-only-host")
        self.active.append("per-job-tmpfs")

    def _setup_cgroup(self) -> None:
        try:
            self.cgroup = MemoryCgroup.open(f"codestar-worker-{os.getpid()}-{time.time_ns()}")
        except OSError as error:
            self.inactive["memory-cgroup"] = str(error)
            self.active.append("memfd-limits")
        else:
            self.active.append(f"memory-cgroup-v{self.cgroup.version}")

    @property
    def open_files(self) -> int:
        return FILES_WITH_CGROUP if self.cgroup else FILES_WITHOUT_CGROUP

    def confine_zygote(self) -> dict[str, str]:
        """In the zygote: the syscall filter; {} or {"seccomp": why it is inactive}."""
        try:
            isolation.prctl(isolation.PR_SET_NO_NEW_PRIVS, 1)
            isolation.install_seccomp()
        except (OSError, AttributeError) as error:
            return {"seccomp": str(error)}
        return {}

    def adopt_zygote(self, pid: int, filter_error: dict[str, str]) -> None:
        """Record the zygote's filter and put it (so every child) in the memory cgroup."""
        if filter_error:
            self.inactive.update(filter_error)
        else:
            self.active.append("seccomp")
        self.active.append("zygote")
        if self.cgroup is not None:
            try:
                self.cgroup.add(pid)
            except OSError as error:
                self.inactive[f"memory-cgroup-v{self.cgroup.version}"] = str(error)
                self.active.remove(f"memory-cgroup-v{self.cgroup.version}")
                self.active.append("memfd-limits")
                self.cgroup = None

    def prepare(self, memory_bytes: int) -> None:
        """Before a job: fresh tmpfs on every writable directory, the job's memory limit."""
        if self.scratch is not None:
            self.scratch.renew(min(memory_bytes, 1 << 30))
        if self.cgroup is not None:
            self.cgroup.limit(memory_bytes)

    def oom_kills(self) -> int:
        return self.cgroup.oom_kills() if self.cgroup is not None else 0

    def report(self) -> dict[str, Any]:
        mode = "namespaces" if self.namespaces else "minimal"
        return {"mode": mode, "active": self.active, "inactive": self.inactive}

    def close(self) -> None:
        if self.cgroup is not None:
            self.cgroup.remove()

    def sweep(self, keep: Collection[int] = (), child_pid: int | None = None) -> None:
        """Kill every process a job left behind (except ``keep``: the zygote), and reap."""
        spared = {1, os.getpid(), *keep}
        if self.namespaces:
            # Everything but us and the zygote goes; orphans are our children: we reap them.
            deadline = time.monotonic() + SWEEP_DEADLINE_S
            while time.monotonic() < deadline:
                victims = [int(n) for n in os.listdir("/proc") if n.isdigit()]
                victims = [pid for pid in victims if pid not in spared]
                if not victims:
                    break
                for pid in victims:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
                self._reap_all()
                time.sleep(0.0005)
        else:
            if child_pid is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child_pid, signal.SIGKILL)
            self._kill_children(spared)
        self._reap_all()

    def _kill_children(self, spared: Collection[int]) -> None:
        me = os.getpid()
        for _ in range(50):
            children = []
            with contextlib.suppress(OSError):
                for name in os.listdir("/proc"):
                    if not name.isdigit() or int(name) in spared:
                        continue
                    try:
                        with open(f"/proc/{name}/stat") as handle:
                            fields = handle.read().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    if int(fields[1]) == me:
                        children.append(int(name))
            if not children:
                return
            for pid in children:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            self._reap_all()

    @staticmethod
    def _reap_all() -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
