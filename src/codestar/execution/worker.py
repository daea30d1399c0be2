"""A warm worker: runs jobs (one program on a list of tests) inside the sandbox.

The engine starts one worker per core as ``python -m codestar.execution.worker``. At
start-up the worker imports everything programs commonly use, enters its namespaces
(when it can), installs the syscall filter and says which layers are active. For each
job it writes the program into a fresh scratch directory, forks a child that
drops to the worker's own uid and runs the tests (see `codestar.execution.harness`),
enforces the per-test wall-clock limit, grades each output against the expected one
(which the child never sees; the rules are in `codestar.execution.verdicts`), kills
whatever the program left behind and removes the scratch directory.

It does not schedule: one job at a time, in the order the engine sends them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from codestar.execution import harness, isolation
from codestar.execution.prelude import build_prelude
from codestar.execution.protocol import read_frame, write_frame
from codestar.execution.sandbox import Sandbox
from codestar.execution.types import GradingRule, Verdict
from codestar.execution.verdicts import Verdicts
from codestar.execution.verdicts import outcome as new_outcome

#: How long a child may take to exit on its own after its last test.
EXIT_GRACE_S = 2.0


@dataclass(frozen=True, slots=True)
class JobLimits:
    timeout_s: float
    cpu_s: float
    memory_bytes: int
    processes: int
    output_bytes: int
    captured_chars: int

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> JobLimits:
        return cls(
            timeout_s=float(message["timeout_s"]),
            cpu_s=float(message["cpu_s"]),
            memory_bytes=int(message["memory_mb"]) * 1024 * 1024,
            processes=int(message["processes"]),
            output_bytes=int(message["output_bytes"]),
            captured_chars=int(message["captured_chars"]),
        )


class JobRunner:
    """Runs one job message and returns its outcomes as plain dicts."""

    def __init__(
        self, sandbox: Sandbox, prelude: dict[str, Any], job: dict[str, Any], blobs: list[bytes]
    ) -> None:
        self.sandbox = sandbox
        self.prelude = prelude
        self.source: str = job["source"]
        self.kind: str = job["kind"]
        self.entry: str | None = job.get("entry")
        count = int(job["tests"])
        self.inputs: list[bytes] = blobs[:count]
        known = iter(blobs[count:])
        self.expected: list[str | None] = [
            next(known).decode("utf-8", "surrogatepass") if has else None
            for has in job["has_expected"]
        ]
        self.stop_on_failure: bool = bool(job.get("stop_on_failure"))
        self.limits = JobLimits.from_message(job["limits"])
        self.verdicts = Verdicts(
            kind=self.kind,
            expected=self.expected,
            rule=GradingRule(float_tolerance=job.get("float_tolerance")),
            captured_chars=self.limits.captured_chars,
            timeout_s=self.limits.timeout_s,
        )
        self.cpu_limit_s = 0  # the hard CPU limit of the current child
        self.outcomes: list[dict[str, Any] | None] = [None] * len(self.inputs)
        self.scratch = ""
        #: test index -> the memfd its output goes to (sent by the child at test start)
        self.outputs: dict[int, int] = {}
        #: children that reported their last test and are exiting on their own
        self.exiting: list[int] = []

    # -- setup and teardown

    def run(self) -> list[dict[str, Any]]:
        if not self.inputs:
            return []
        self.scratch = tempfile.mkdtemp(prefix="codestar-", dir=self.sandbox.scratch_root)
        self._write_files()
        index = 0
        while index < len(self.inputs):
            index = self._run_child(index)
        return [o or new_outcome(Verdict.NOT_RUN) for o in self.outcomes]

    def cleanup(self) -> None:
        """Kill whatever the job left behind and remove its scratch directory.

        Called after the answer is sent, so the engine does not wait for it; the worker
        still finishes it before it reads the next job.
        """
        for pid in self.exiting:
            self._finish(pid)
        self.sandbox.sweep()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def _write_files(self) -> None:
        with open(os.path.join(self.scratch, harness.PROGRAM_FILE), "w", encoding="utf-8") as f:
            f.write(self.source)
        if self.sandbox.child_uid is not None:
            os.chown(self.scratch, self.sandbox.child_uid, self.sandbox.child_uid)
        os.chmod(self.scratch, 0o755)

    def _child_limits(self, tests: int) -> isolation.ChildLimits:
        return isolation.ChildLimits(
            memory_bytes=self.limits.memory_bytes,
            cpu_seconds=math.ceil(self.limits.cpu_s * tests) + 1,
            processes=self.limits.processes,
            file_bytes=self.limits.output_bytes + 1,
        )

    def _spawn(self, start: int) -> tuple[int, socket.socket]:
        indices = list(range(start, len(self.inputs)))
        child_limits = self._child_limits(len(indices))
        self.cpu_limit_s = child_limits.cpu_seconds
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:  # the child: confine, then run untrusted code; never returns
            try:
                os.setsid()
                os.chdir(self.scratch)
                os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
                status_fd = os.dup2(theirs.fileno(), 3)
                os.closerange(4, 1 << 16)
                isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
                for name in ("SIGINT", "SIGTERM", "SIGPIPE", "SIGCHLD"):
                    signal.signal(getattr(signal, name), signal.SIG_DFL)
                uid = self.sandbox.child_uid
                isolation.apply_rlimits(child_limits, set_processes=uid is not None)
                if uid is not None:
                    isolation.drop_privileges(uid)
                harness.run_tests(
                    source=self.source,
                    kind=self.kind,
                    entry=self.entry,
                    inputs=self.inputs,
                    indices=indices,
                    status_fd=status_fd,
                    prelude=self.prelude,
                    cpu_seconds=self.limits.cpu_s,
                )
            finally:
                os._exit(70)
        theirs.close()
        return pid, ours

    # -- supervision

    def _run_child(self, start: int) -> int:
        """Run tests from ``start`` in one child; return the index to continue from."""
        pid, channel = self._spawn(start)
        index = start
        test_start = time.monotonic()
        try:
            while index < len(self.inputs):
                remaining = test_start + self.limits.timeout_s - time.monotonic()
                ready, _, _ = select.select([channel], [], [], max(0.0, remaining))
                if not ready:
                    self._kill(pid)
                    self._set(index, self.verdicts.timed_out(self._output(index)[1]))
                    return self._after_failure(index)
                message, fds = self._receive(channel)
                if message is None:  # the child died
                    death = self._reap(pid)
                    data, over = self._output(index)
                    elapsed = time.monotonic() - test_start
                    self._set(
                        index,
                        self.verdicts.died(index, death, data, over, elapsed, self.cpu_limit_s),
                    )
                    self.sandbox.sweep(pid)
                    return self._after_failure(index)
                if message.get("start") == 1 and message.get("i") == index and fds:
                    self._close_output(index)
                    self.outputs[index] = fds.pop(0)
                    for extra in fds:
                        os.close(extra)
                    continue
                if fds and self.kind == "functional":  # a large return value
                    self._close_output(index)
                    self.outputs[index] = fds.pop(0)
                inline = message.get("r")
                data, over = self._output(index, inline if isinstance(inline, str) else None)
                outcome, status = self.verdicts.reported(index, message, data, over)
                self._set(index, outcome)
                if fds and self.kind == "stdin":  # the memfd of the next test's output
                    self._close_output(index + 1)
                    self.outputs[index + 1] = fds.pop(0)
                for extra in fds:
                    os.close(extra)
                test_start = time.monotonic()
                if status == "load":  # nothing can run: the same error for every test
                    for rest in range(index + 1, len(self.inputs)):
                        self._set(rest, dict(outcome, t=0.0))
                    self.exiting.append(pid)
                    return len(self.inputs)
                verdict = outcome["v"]
                if verdict == Verdict.WRONG_ANSWER and not self.stop_on_failure:
                    index += 1  # the child ran cleanly and goes on to the next test
                    continue
                if verdict not in (Verdict.PASSED, Verdict.COMPLETED):
                    # the child exits by itself after an error; after a wrong answer
                    # or an output limit it would go on: stop it now, either way
                    self._kill(pid)
                    return self._after_failure(index)
                index += 1
            self.exiting.append(pid)  # reaped in `cleanup`, after the answer is sent
            return len(self.inputs)
        finally:
            channel.close()
            for index in list(self.outputs):
                self._close_output(index)

    @staticmethod
    def _receive(channel: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
        """One message from the child (None at its end) and the fds it carried."""
        try:
            data, fds, _, _ = socket.recv_fds(channel, 1 << 16, 4)
        except OSError:
            return None, []
        if not data:
            return None, fds
        try:
            message = json.loads(data)
        except ValueError:
            message = {"garbled": True}
        return (message if isinstance(message, dict) else {"garbled": True}), fds

    def _close_output(self, index: int) -> None:
        fd = self.outputs.pop(index, None)
        if fd is not None:
            os.close(fd)

    def _after_failure(self, index: int) -> int:
        outcome = self.outcomes[index]
        failed = outcome is not None and outcome["v"] != Verdict.PASSED
        if self.stop_on_failure and failed:
            return len(self.inputs)
        return index + 1

    def _set(self, index: int, outcome: dict[str, Any]) -> None:
        self.outcomes[index] = outcome

    def _finish(self, pid: int) -> None:
        """Let the child exit on its own (briefly), else kill it; `cleanup` sweeps the rest."""
        try:
            handle = os.pidfd_open(pid)
        except (AttributeError, OSError):  # no pidfd: poll
            deadline = time.monotonic() + EXIT_GRACE_S
            while time.monotonic() < deadline:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    return
                time.sleep(0.0005)
            self._kill(pid)
            return
        try:
            exited, _, _ = select.select([handle], [], [], EXIT_GRACE_S)
        finally:
            os.close(handle)
        if exited:
            self._reap(pid)
        else:
            self._kill(pid)

    def _kill(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        self._reap(pid)
        self.sandbox.sweep(pid)

    @staticmethod
    def _reap(pid: int) -> tuple[int, float] | None:
        """Wait for ``pid``; its wait status and CPU seconds (None if already reaped)."""
        try:
            _, status, usage = os.wait4(pid, 0)
        except ChildProcessError:
            return None
        return status, usage.ru_utime + usage.ru_stime

    # -- outcomes

    def _output(self, index: int, inline: str | None = None) -> tuple[bytes, bool]:
        """What test ``index`` printed (or, functional, returned), and if it was too much.

        ``inline`` is a functional result that came inside the status message.
        """
        if inline is not None:
            data = inline.encode("utf-8", "surrogatepass")
            return (b"", True) if len(data) > self.limits.output_bytes else (data, False)
        fd = self.outputs.get(index)
        if fd is None:
            return b"", False
        try:
            size = os.fstat(fd).st_size
            if size > self.limits.output_bytes:
                return b"", True
            chunks, offset = [], 0
            while offset < size:
                chunk = os.pread(fd, size - offset, offset)
                if not chunk:
                    break
                chunks.append(chunk)
                offset += len(chunk)
        except OSError:
            return b"", False
        finally:
            self._close_output(index)
        return b"".join(chunks), False


def serve(sandbox: Sandbox, stream_in: Any, stream_out: Any) -> None:
    prelude = build_prelude()
    write_frame(stream_out, {"ready": True, "report": sandbox.report()})
    while True:
        frame = read_frame(stream_in)
        if frame is None or frame[0].get("shutdown"):
            return
        job, blobs = frame
        runner = JobRunner(sandbox, prelude, job, blobs)
        try:
            outcomes = runner.run()
            write_frame(stream_out, {"id": job.get("id"), "outcomes": outcomes})
        except Exception as error:  # the worker itself failed: tell the engine
            write_frame(stream_out, {"id": job.get("id"), "error": repr(error)})
        finally:
            runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="codestar-worker")
    parser.add_argument("--isolation", default="auto", choices=["auto", "namespaces", "minimal"])
    parser.add_argument("--uid", type=int, default=None)
    args = parser.parse_args(argv)
    if sys.platform.startswith("linux"):  # die with the engine, however it ends
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
    os.umask(0o022)
    # The protocol moves to private descriptors; fds 0 and 1 become /dev/null so that
    # nothing printed by accident can corrupt it.
    stream_in = os.fdopen(os.dup(0), "rb", buffering=1 << 16)
    stream_out = os.fdopen(os.dup(1), "wb", buffering=1 << 16)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        sandbox = Sandbox(args.isolation, args.uid)
    except OSError as error:
        write_frame(stream_out, {"ready": False, "error": f"sandbox set-up failed: {error}"})
        return
    serve(sandbox, stream_in, stream_out)


if __name__ == "__main__":
    main()
