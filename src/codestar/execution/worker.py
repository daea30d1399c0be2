"""A warm worker: runs jobs (one program on a list of tests) inside the sandbox.

The engine starts one worker per core as ``python -m codestar.execution.worker``. At
start-up the worker imports everything programs commonly use, enters its namespaces
(when it can), forks its zygote (`codestar.execution.zygote`: the syscall-filtered
process every child comes from, which never holds test data) and says which layers are
active. For each job it renews the per-job tmpfs and memory limit, writes the program
into a fresh scratch directory, has the zygote fork a child that drops to the worker's
own uid and runs the tests on their inputs only (see `codestar.execution.harness`),
enforces the per-test wall-clock limit, grades each output against the expected one
(which the child never sees; the rules are in `codestar.execution.verdicts`), kills
whatever the program left behind and removes the scratch directory.

Every wait on a child has a deadline: the child (or a grandchild holding its socket) can
close, flood or forge its status channel, and the test still ends within its time limit
plus a small margin, with a verdict.

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
from dataclasses import dataclass
from typing import Any

from codestar.execution import harness, isolation
from codestar.execution.deadlines import (
    ALIVE,
    KILL_DEADLINE_S,
    TestClock,
    exit_handle,
    wait_exit,
)
from codestar.execution.prelude import build_prelude
from codestar.execution.protocol import read_frame, write_frame
from codestar.execution.sandbox import Sandbox
from codestar.execution.types import GradingRule, Verdict
from codestar.execution.verdicts import Verdicts
from codestar.execution.verdicts import outcome as new_outcome
from codestar.execution.zygote import ChildJob, Zygote, ZygoteLost

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
        self, sandbox: Sandbox, zygote: Zygote, job: dict[str, Any], blobs: list[bytes]
    ) -> None:
        self.sandbox = sandbox
        self.zygote = zygote
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
            rule=GradingRule(
                float_tolerance=job.get("float_tolerance"),
                relative_tolerance=job.get("relative_tolerance"),
                unordered=bool(job.get("unordered")),
            ),
            captured_chars=self.limits.captured_chars,
            timeout_s=self.limits.timeout_s,
        )
        self.cpu_limit_s = 0  # the hard CPU limit of the current child
        self.outcomes: list[dict[str, Any] | None] = [None] * len(self.inputs)
        self.scratch = ""
        self.oom_kills = 0  # the memory cgroup's count of OOM kills, as last read
        #: test index -> the memfd its output goes to (sent by the child at test start)
        self.outputs: dict[int, int] = {}
        #: children that reported their last test and are exiting on their own
        self.exiting: list[int] = []

    # -- setup and teardown

    def run(self) -> list[dict[str, Any]]:
        if not self.inputs:
            return []
        self.sandbox.prepare(self.limits.memory_bytes)
        self.oom_kills = self.sandbox.oom_kills()
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
        self.sandbox.sweep(keep=self._spared())
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def _spared(self) -> tuple[int, ...]:
        """What a sweep must not kill: the zygote and its spare child."""
        spare = self.zygote.spare_pid()
        return (self.zygote.pid,) if spare is None else (self.zygote.pid, spare)

    def _write_files(self) -> None:
        # The program is compiled from memory; the file is for programs that read their
        # own source. A full scratch file system (minimal mode) is no reason to fail.
        with contextlib.suppress(OSError):
            path = os.path.join(self.scratch, harness.PROGRAM_FILE)
            with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
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
            open_files=self.sandbox.open_files,
        )

    def _spawn(self, start: int) -> tuple[int, socket.socket]:
        """A child from the zygote for the tests from ``start``: inputs only, no answers."""
        indices = tuple(range(start, len(self.inputs)))
        child_limits = self._child_limits(len(indices))
        self.cpu_limit_s = child_limits.cpu_seconds
        job = ChildJob(
            source=self.source,
            kind=self.kind,
            entry=self.entry,
            indices=indices,
            inputs=tuple(self.inputs[i] for i in indices),
            cpu_s=self.limits.cpu_s,
            limits=child_limits,
            uid=self.sandbox.child_uid,
            scratch=self.scratch,
        )
        pid, channel = self.zygote.spawn(job)
        channel.setblocking(False)
        return pid, channel

    # -- supervision

    def _run_child(self, start: int) -> int:
        """Run tests from ``start`` in one child; return the index to continue from."""
        pid, channel = self._spawn(start)
        handle = exit_handle(pid)
        watched: list[Any] = [channel] if handle is None else [channel, handle]
        index = start
        clock = TestClock(pid, self.limits.timeout_s)
        try:
            while index < len(self.inputs):
                remaining = clock.remaining()
                if remaining <= 0:
                    self._kill(pid)
                    self._set(index, self.verdicts.timed_out(self._output(index)[1]))
                    return self._after_failure(index)
                ready, _, _ = select.select(watched, [], [], remaining)
                if not ready:
                    continue
                message, fds = self._receive(channel)
                if message is _NOTHING:
                    if handle is not None and handle in ready:
                        message = None  # the child is gone (a grandchild holds the socket)
                    else:
                        continue
                if message is None:  # the child died, or closed its end
                    death = wait_exit(pid, handle, max(0.0, clock.remaining()))
                    if death is ALIVE:  # it closed the channel and runs on: stop it
                        self._kill(pid)
                        self._set(index, self.verdicts.timed_out(self._output(index)[1]))
                        return self._after_failure(index)
                    data, over = self._output(index)
                    oom_kills = self.sandbox.oom_kills()
                    oom, self.oom_kills = oom_kills > self.oom_kills, oom_kills
                    self._set(
                        index,
                        self.verdicts.died(
                            index, death, data, over, clock.elapsed(), self.cpu_limit_s, oom
                        ),
                    )
                    self.sandbox.sweep(keep=self._spared(), child_pid=pid)
                    return self._after_failure(index)
                assert isinstance(message, dict)
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
                outcome, status = self.verdicts.reported(
                    index, message, data, over, clock.elapsed()
                )
                self._set(index, outcome)
                if fds and self.kind == "stdin":  # the memfd of the next test's output
                    self._close_output(index + 1)
                    self.outputs[index + 1] = fds.pop(0)
                for extra in fds:
                    os.close(extra)
                clock.restart()
                if status == "load":  # nothing can run: the same error for every test
                    for rest in range(index + 1, len(self.inputs)):
                        self._set(rest, dict(outcome, t=0.0))
                    self.exiting.append(pid)
                    return len(self.inputs)
                verdict = outcome["v"]
                if verdict not in (Verdict.PASSED, Verdict.COMPLETED, Verdict.WRONG_ANSWER) or (
                    verdict == Verdict.WRONG_ANSWER and self.stop_on_failure
                ):
                    # the child exits by itself after an error; after a wrong answer
                    # or an output limit it would go on: stop it now, either way
                    self._kill(pid)
                    return self._after_failure(index)
                index += 1
                if message.get("x") and index < len(self.inputs):
                    # the program left a thread running: this child ends, a fresh one
                    # runs the next test, so the thread cannot print into it
                    self.exiting.append(pid)
                    return index
            self.exiting.append(pid)  # reaped in `cleanup`, after the answer is sent
            return len(self.inputs)
        finally:
            clock.close()
            channel.close()
            if handle is not None:
                os.close(handle)
            for index in list(self.outputs):
                self._close_output(index)

    @staticmethod
    def _receive(channel: socket.socket) -> tuple[Any, list[int]]:
        """One message from the child: a dict, None at its end, `_NOTHING` if none yet.

        Whatever the child sends (garbage, deep nesting, huge numbers, an empty frame)
        becomes a dict or None here; it never raises.
        """
        try:
            data, fds, _, _ = socket.recv_fds(channel, 1 << 16, 4)
        except BlockingIOError:
            return _NOTHING, []
        except OSError:
            return None, []
        if not data:  # end of stream (an empty frame is read as the end too)
            for fd in fds:
                os.close(fd)
            return None, []
        try:
            message = json.loads(data)
        except (ValueError, RecursionError):
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
        if wait_exit(pid, exit_handle(pid), EXIT_GRACE_S, close=True) is ALIVE:
            self._kill(pid)

    def _kill(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        wait_exit(pid, exit_handle(pid), KILL_DEADLINE_S, close=True)
        self.sandbox.sweep(keep=self._spared(), child_pid=pid)

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


_NOTHING = object()  # no message yet


def serve(sandbox: Sandbox, stream_in: Any, stream_out: Any) -> None:
    prelude = build_prelude()
    zygote = Zygote(prelude, sandbox.confine_zygote)  # before any job: it holds no test data
    del prelude
    sandbox.adopt_zygote(zygote.pid, zygote.inactive)
    write_frame(stream_out, {"ready": True, "report": sandbox.report()})
    try:
        while True:
            frame = read_frame(stream_in)
            if frame is None or frame[0].get("shutdown"):
                return
            job, blobs = frame
            runner = JobRunner(sandbox, zygote, job, blobs)
            try:
                outcomes = runner.run()
                write_frame(stream_out, {"id": job.get("id"), "outcomes": outcomes})
            except ZygoteLost:  # a program killed it (weak isolation): the engine retries
                return
            except Exception as error:  # the worker itself failed: tell the engine
                write_frame(stream_out, {"id": job.get("id"), "error": repr(error)})
            finally:
                runner.cleanup()
    finally:
        zygote.close()
        sandbox.close()


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
