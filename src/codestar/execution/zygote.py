"""The zygote: the process every sandboxed child is forked from, which never sees test data.

A child forked straight from the worker would inherit the worker's memory: the expected
outputs of its own tests and, in freed memory, those of earlier jobs, which a program can
find by walking frames, the garbage collector or ``/proc/self/mem``. So the worker forks
the zygote once, at start-up, before any job exists; the zygote installs the syscall
filter and then only ever forks on request. Each request carries a fresh socket; the
new child (forked with ``CLONE_PARENT``, or twice where that is unavailable, so that it
is the worker's child and the worker can wait for it, time it and read its exit status)
says hello with its pid, then reads its job from that socket: the program, its *inputs*
and its limits, never an expected output. The worker compares outputs itself. One
child is always forked ahead (the spare), so a job does not wait for a fork.

    worker ──fork request (socket)──> zygote ──fork, fork──> child (the worker's child)
    worker <─────────── hello, status messages, output memfds ────────── child

What it does not do: supervise children (the worker does) or grade anything.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import select
import signal
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, NoReturn

from codestar.execution import harness, isolation
from codestar.execution import prelude as prelude_names
from codestar.execution.protocol import read_frame, write_frame

#: How long a fork request may take before the zygote is declared lost.
HELLO_DEADLINE_S = 10.0
#: The child's descriptor for its status socket (fd 3 is the harness's convention).
STATUS_FD = 3


class ZygoteLost(Exception):
    """The zygote is gone (a program killed it where isolation is weak): restart the worker."""


@dataclass(frozen=True, slots=True)
class ChildJob:
    """What one child needs: the program, the inputs of its tests, its limits; no answers."""

    source: str
    kind: str
    entry: str | None
    indices: tuple[int, ...]
    inputs: tuple[bytes, ...]  # one per index
    cpu_s: float
    limits: isolation.ChildLimits
    uid: int | None
    scratch: str

    def to_memfd(self) -> int:
        header = {
            "source": self.source, "kind": self.kind, "entry": self.entry,
            "indices": list(self.indices), "cpu_s": self.cpu_s,
            "limits": asdict(self.limits), "uid": self.uid, "scratch": self.scratch,
        }  # fmt: skip
        fd = os.memfd_create("job", os.MFD_CLOEXEC)
        with os.fdopen(os.dup(fd), "wb") as stream:
            write_frame(stream, header, self.inputs)
        os.lseek(fd, 0, os.SEEK_SET)
        return fd

    @classmethod
    def from_memfd(cls, fd: int) -> ChildJob:
        with os.fdopen(fd, "rb") as stream:
            frame = read_frame(stream)
        if frame is None:
            raise ValueError("an empty job")
        header, blobs = frame
        return cls(
            source=header["source"],
            kind=header["kind"],
            entry=header["entry"],
            indices=tuple(header["indices"]),
            inputs=tuple(blobs),
            cpu_s=header["cpu_s"],
            limits=isolation.ChildLimits(**header["limits"]),
            uid=header["uid"],
            scratch=header["scratch"],
        )


@dataclass(slots=True)
class _Spare:
    """A child forked ahead of its job: its channel, and its pid once it said hello."""

    channel: socket.socket
    pid: int | None = None


class Zygote:
    """The worker's handle on its zygote process."""

    def __init__(self, prelude: dict[str, Any], confine: Callable[[], dict[str, str]]) -> None:
        """Fork the zygote; it runs ``confine()`` (the syscall filter) before serving and
        reports what that returned (the layers it could not set up) as `inactive`."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        worker = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                _serve(theirs, worker, prelude, confine)
            finally:
                os._exit(0)
        theirs.close()
        self.pid = pid
        self.control = ours
        self.pidfd = os.pidfd_open(pid)
        ready, _, _ = select.select([ours], [], [], HELLO_DEADLINE_S)
        data = ours.recv(1 << 12) if ready else b""
        if not data:
            self.close()
            raise ZygoteLost("the zygote did not start")
        self.inactive: dict[str, str] = json.loads(data)
        self._spare: _Spare | None = None

    def spawn(self, job: ChildJob) -> tuple[int, socket.socket]:
        """A child for ``job``: its pid (a child of this process) and its channel.

        The child is the spare forked ahead (so the fork is off the critical path), and
        the next spare is requested at once.
        """
        for _attempt in range(2):
            spare = self._spare or self._request()
            self._spare = None
            try:
                pid = self._hello(spare)
                memfd = job.to_memfd()
                try:
                    socket.send_fds(spare.channel, [b"job"], [memfd])
                finally:
                    os.close(memfd)
            except OSError:  # the spare died before its job (swept, or killed): again
                spare.channel.close()
                continue
            self._spare = self._request()
            return pid, spare.channel
        raise ZygoteLost("the zygote's children die before their job")

    def spare_pid(self) -> int | None:
        """The pid of the waiting spare child (which a sweep must spare), if there is one."""
        if self._spare is None:
            return None
        try:
            return self._hello(self._spare)
        except OSError:
            self._spare.channel.close()
            self._spare = None
            return None

    def _request(self) -> _Spare:
        """Ask the zygote for a child; its hello is read when it is needed."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            socket.send_fds(self.control, [b"fork"], [theirs.fileno()])
        except OSError as error:
            ours.close()
            raise ZygoteLost(f"the zygote is gone: {error}") from error
        finally:
            theirs.close()
        return _Spare(ours)

    def _hello(self, spare: _Spare) -> int:
        """The spare's pid, from its hello (waited for up to `HELLO_DEADLINE_S`)."""
        if spare.pid is None:
            watched: list[Any] = [spare.channel, self.pidfd]
            ready, _, _ = select.select(watched, [], [], HELLO_DEADLINE_S)
            if spare.channel not in ready:
                spare.channel.close()
                raise ZygoteLost("the zygote did not fork a child")
            try:
                spare.pid = int(json.loads(spare.channel.recv(256) or b"{}")["pid"])
            except (ValueError, KeyError, TypeError) as error:
                raise OSError(f"no hello from the child: {error}") from error
        return spare.pid

    def close(self) -> None:
        if self._spare is not None:
            self._spare.channel.close()
        self.control.close()
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        os.close(self.pidfd)


def _serve(
    control: socket.socket,
    worker: int,
    prelude: dict[str, Any],
    confine: Callable[[], dict[str, str]],
) -> NoReturn:
    """The zygote's loop: one fork per request, until the worker closes the socket."""
    isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
    control_fd = os.dup2(control.detach(), 3)
    os.closerange(4, 1 << 16)  # the worker's protocol streams stay with the worker
    control = socket.socket(fileno=control_fd)
    control.sendall(json.dumps(confine()).encode())
    _set_oom_score(-1000)  # the OOM killer takes a child, never the zygote
    prelude_names.install(prelude)  # once, for every child: not copied per test
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, 16, 1)
        except OSError:
            os._exit(0)
        if not data:
            os._exit(0)
        for fd in fds[1:]:
            os.close(fd)
        if not fds:
            continue
        with contextlib.suppress(OSError):  # the worker then sees no hello
            _fork_child(fds[0], worker, prelude, control)
        os.close(fds[0])


def _fork_child(
    channel_fd: int, worker: int, prelude: dict[str, Any], control: socket.socket
) -> None:
    """Fork a child of the worker: one `clone` with ``CLONE_PARENT`` where the machine
    has it (half the cost), else fork twice and let the middle process exit."""
    try:
        pid = isolation.fork_sibling()
    except OSError:
        middle = os.fork()
        if middle == 0:
            control.close()
            if os.fork() == 0:
                _child(channel_fd, worker, prelude)
            os._exit(0)
        os.waitpid(middle, 0)
        return
    if pid == 0:
        random.seed()  # what os.fork's at-fork hook would have done
        control.close()
        _child(channel_fd, worker, prelude)


def _child(channel_fd: int, worker: int, prelude: dict[str, Any]) -> NoReturn:
    """Become the worker's child, read the job, confine and run it; never returns."""
    try:
        deadline = time.monotonic() + HELLO_DEADLINE_S
        while os.getppid() != worker and time.monotonic() < deadline:
            time.sleep(0.00002)  # the middle process is exiting: we become an orphan
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != worker:
            os._exit(71)
        os.setsid()
        with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("0")
        channel = socket.socket(fileno=channel_fd)
        channel.sendall(json.dumps({"pid": os.getpid()}).encode())
        _, fds, _, _ = socket.recv_fds(channel, 16, 1)
        job = ChildJob.from_memfd(fds[0])
        os.chdir(job.scratch)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
        os.dup2(channel.detach(), STATUS_FD)
        os.closerange(STATUS_FD + 1, 1 << 16)
        for name in ("SIGINT", "SIGTERM", "SIGPIPE", "SIGCHLD"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        isolation.apply_rlimits(job.limits, set_processes=job.uid is not None)
        if job.uid is not None:
            isolation.drop_privileges(job.uid)
        else:
            with contextlib.suppress(OSError):
                isolation.drop_capabilities()
        _run(job, prelude)
    finally:
        os._exit(70)


def _set_oom_score(value: int) -> None:
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as handle:
        handle.write(str(value))


def _run(job: ChildJob, prelude: dict[str, Any]) -> NoReturn:
    inputs: list[bytes] = [b""] * (max(job.indices) + 1)
    for index, data in zip(job.indices, job.inputs, strict=True):
        inputs[index] = data
    indices: Sequence[int] = job.indices
    harness.run_tests(
        source=job.source,
        kind=job.kind,
        entry=job.entry,
        inputs=inputs,
        indices=indices,
        status_fd=STATUS_FD,
        prelude=prelude,
        cpu_seconds=job.cpu_s,
    )
