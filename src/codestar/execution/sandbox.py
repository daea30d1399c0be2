"""The worker's sandbox state: which isolation layers it set up, and the clean-up sweep.

`Sandbox` is created once per worker process. It enters the namespaces (the worker then
continues as pid 1 of its own pid namespace), installs the syscall filter, decides which
uid the programs run as, and kills whatever a job leaves behind. The layers themselves
are in `codestar.execution.isolation`; running jobs is `codestar.execution.worker`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
import time
from typing import Any

from codestar.execution import isolation

#: How long killing a job's leftovers may take before the worker gives up on them.
SWEEP_DEADLINE_S = 5.0


class Sandbox:
    """The worker's isolation state: which layers it set up, and who children become."""

    def __init__(self, mode: str, uid: int | None) -> None:
        self.requested = mode
        self.active: list[str] = ["rlimits", "clean-environment", "scratch-directory"]
        self.inactive: dict[str, str] = {}
        self.namespaces = False
        self.child_uid: int | None = None
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
        try:
            isolation.prctl(isolation.PR_SET_NO_NEW_PRIVS, 1)
            isolation.install_seccomp()
            self.active.append("seccomp")
        except (OSError, AttributeError) as error:
            self.inactive["seccomp"] = str(error)

    def _become_namespace_init(self) -> None:
        """Fork; the child is pid 1 of the new pid namespace and carries on as the worker."""
        pid = os.fork()
        if pid:
            # The outer process only mirrors the inner one's exit; if it is killed, the
            # inner one gets SIGKILL (parent-death signal) and the namespace goes with it.
            _, status = os.waitpid(pid, 0)
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
        isolation.finish_namespaces()

    def report(self) -> dict[str, Any]:
        mode = "namespaces" if self.namespaces else "minimal"
        return {"mode": mode, "active": self.active, "inactive": self.inactive}

    def sweep(self, child_pid: int | None = None) -> None:
        """Kill every process a job left behind, and reap them."""
        if self.namespaces:
            # Everything but us (pid 1) goes; orphans are our children, so we reap them.
            deadline = time.monotonic() + SWEEP_DEADLINE_S
            while time.monotonic() < deadline:
                victims = [int(n) for n in os.listdir("/proc") if n.isdigit() and n != "1"]
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
            self._kill_children()
        self._reap_all()

    def _kill_children(self) -> None:
        me = os.getpid()
        for _ in range(50):
            children = []
            with contextlib.suppress(OSError):
                for name in os.listdir("/proc"):
                    if not name.isdigit():
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
