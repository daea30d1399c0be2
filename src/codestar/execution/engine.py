"""The execution engine: a pool of warm sandboxed workers that run programs on tests.

    >>> from codestar.execution.engine import Engine
    >>> from codestar.execution.types import Program
    >>> from codestar.problems.model import TestCase
    >>> with Engine(workers=1) as engine:                       # doctest: +SKIP
    ...     engine.run(Program("print(int(input()) * 2)"), [TestCase("21\\n", "42")]).passed
    True

One worker process per core is started on first use and kept warm; each job (one program
on a list of tests) goes to the next free worker. The API is shaped for S*: `run_matrix`
runs K programs on T inputs and returns the K x T outcomes, `run` with
``stop_on_failure=True`` is plain grading, and `arun` / `submit` let an asyncio or threaded
caller overlap executions with model calls.

What it does not do: choose tests, cache results (the run store does) or decide anything
about candidates.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import os
import queue
import random
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from codestar.errors import SandboxError
from codestar.execution.isolation import IsolationMode, IsolationReport, clean_environment
from codestar.execution.protocol import read_frame, write_frame
from codestar.execution.types import (
    GradingRule,
    Limits,
    Program,
    ProgramResult,
    TestOutcome,
    Verdict,
)
from codestar.execution.verdicts import clean_text, seconds
from codestar.problems.model import ProblemKind, TestCase

Gate = Callable[[], AbstractContextManager[Any]]


class ExecutionCache(Protocol):
    """Where finished executions are kept (the run store), so a resumed run skips them."""

    def get_execution(self, key: str) -> Any | None: ...

    def put_execution(self, key: str, payload: Any) -> None: ...


#: Workers' children run as uids from here on (unused by real accounts).
UID_BASE = 1_000_000


@dataclass(frozen=True, slots=True)
class Job:
    """One unit of work for a worker: a program, its tests, its limits and rule.

    `cache_key` names the outcome (what executors and run stores key executions by);
    `frame` is what travels to the worker.
    """

    program: Program
    tests: tuple[TestCase, ...]
    limits: Limits
    rule: GradingRule
    stop_on_failure: bool

    def cache_key(self) -> str:
        """A hash of everything that decides the outcome (not of timing)."""
        message, blobs = self.frame(0)
        del message["id"]
        digest = hashlib.sha256(json.dumps(message, sort_keys=True).encode())
        for blob in blobs:
            digest.update(len(blob).to_bytes(8, "big"))
            digest.update(blob)
        return digest.hexdigest()

    def frame(self, job_id: int) -> tuple[dict[str, Any], list[bytes]]:
        """The job as a frame header and its blobs: the inputs, then the known outputs."""
        limits = self.limits
        blobs = [_encode(t.input) for t in self.tests]
        blobs += [_encode(t.expected) for t in self.tests if t.expected is not None]
        message = {
            "id": job_id,
            "source": self.program.source,
            "kind": self.program.kind.value,
            "entry": self.program.entry_point,
            "tests": len(self.tests),
            "has_expected": [t.expected is not None for t in self.tests],
            "stop_on_failure": self.stop_on_failure,
            "float_tolerance": self.rule.float_tolerance,
            "relative_tolerance": self.rule.relative_tolerance,
            "unordered": self.rule.unordered,
            "limits": {
                "timeout_s": limits.timeout_s,
                "cpu_s": limits.effective_cpu_s,
                "memory_mb": limits.memory_mb,
                "processes": limits.processes,
                "output_bytes": limits.output_bytes,
                "captured_chars": limits.captured_chars,
            },
        }
        return message, blobs


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _outcome(raw: dict[str, Any]) -> TestOutcome:
    """An outcome from the worker's JSON; never a NaN, an infinity or a lone surrogate
    (the CLI prints outcomes as strict JSON), whatever a program managed to send."""
    error = raw.get("e")
    return TestOutcome(
        verdict=Verdict(raw["v"]),
        elapsed_s=seconds(raw.get("t") or 0.0, math.inf) or 0.0,
        output=raw.get("out") or "",  # decoded by the worker with "replace": valid
        output_digest=str(raw.get("d") or ""),
        truncated=bool(raw.get("tr")),
        error=clean_text(error) if isinstance(error, str) else None,
    )


class _Worker:
    """One worker process and the pipe protocol to it."""

    def __init__(self, isolation: IsolationMode, uid: int) -> None:
        package_root = str(Path(__file__).resolve().parents[2])
        env = clean_environment({"PYTHONPATH": package_root})
        command = [sys.executable, "-m", "codestar.execution.worker", "--isolation", isolation]
        command += ["--uid", str(uid)]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd="/",
            start_new_session=True,  # a Ctrl-C in the terminal is the engine's to handle
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in: IO[bytes] = self.process.stdin
        self._out: IO[bytes] = self.process.stdout
        frame = read_frame(self._out)
        hello = frame[0] if frame else None
        if hello is None or not hello.get("ready"):
            self.close()
            detail = (hello or {}).get("error", "the worker exited during start-up")
            raise SandboxError(
                f"could not start an execution worker: {detail}",
                hint="run `codestar doctor` to see which isolation layers this machine supports",
            )
        report = hello["report"]
        self.report = IsolationReport(
            mode=report["mode"], active=tuple(report["active"]), inactive=report["inactive"]
        )

    def run(self, message: dict[str, Any], blobs: list[bytes]) -> dict[str, Any] | None:
        """Send a job and wait for its answer; None when the worker died."""
        try:
            write_frame(self._in, message, blobs)
            frame = read_frame(self._out)
        except (BrokenPipeError, OSError, ValueError):
            return None
        return frame[0] if frame else None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._in.close()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            self._out.close()


_STOP = object()


class Engine:
    """A pool of sandboxed workers; thread-safe; use as a context manager or `close()`.

    workers: processes to run programs in parallel (default: the machine's cores).
    limits: default per-test limits (each call may override them).
    rule: default grading rule.
    isolation: ``auto`` (the strongest the machine allows), ``namespaces`` (fail if
        they are unavailable) or ``minimal`` (rlimits, clean environment, scratch dir).
    gate: a context-manager factory entered around every job, e.g. to take turns with
        a local model for the CPU.
    cache: where to look up and keep finished executions (e.g. the run store): a job
        whose program, tests, limits and rule were already run is answered from it.
        Timing-dependent verdicts (timeouts) are cached too: a resumed run must agree
        with the interrupted one.
    """

    def __init__(
        self,
        *,
        workers: int | None = None,
        limits: Limits | None = None,
        rule: GradingRule | None = None,
        isolation: IsolationMode = "auto",
        gate: Gate | None = None,
        cache: ExecutionCache | None = None,
    ) -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers or os.cpu_count() or 1
        self.limits = limits or Limits()
        self.rule = rule or GradingRule()
        self.isolation_mode: IsolationMode = isolation
        self.gate = gate
        self.cache = cache
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._handles: list[_Worker | None] = []
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self._report: IsolationReport | None = None
        self._first_ready = threading.Event()
        self._start_error: SandboxError | None = None
        self._ids = itertools.count()
        self._uid_base = UID_BASE + random.randrange(1 << 20) * 64
        self._finalizer = weakref.finalize(self, Engine._shutdown, self._queue, self._handles)

    # -- life cycle

    def start(self, *, wait: bool = True) -> None:
        """Start the workers now rather than at the first job (idempotent).

        With ``wait=False`` it returns at once and the workers start in the background
        (a command starts them before it loads its problems); the first job, or
        `isolation`, then waits for them and raises `SandboxError` if they could not start.
        """
        if wait:
            self._start()
        else:
            self._launch()

    def _launch(self) -> None:
        """Start the worker threads, each of which starts its worker; do not wait."""
        with self._lock:
            if self._closed:
                raise SandboxError("the execution engine is closed")
            if self._threads:
                return
            # Each worker is started by the thread that serves it: a worker dies with the
            # thread that started it (its parent-death signal), so that thread must live.
            self._handles.extend([None] * self.workers)
            for slot in range(self.workers):
                thread = threading.Thread(
                    target=self._serve, args=(slot,), name=f"codestar-worker-{slot}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def _start(self) -> None:
        if self._started:
            return
        self._launch()
        self._first_ready.wait()
        with self._lock:
            if self._start_error is not None:
                self._closed = True
                self._queue.put(_STOP)
                raise self._start_error
            self._started = True

    def _spawn(self, slot: int) -> _Worker:
        return _Worker(self.isolation_mode, self._uid_base + slot)

    def _serve(self, slot: int) -> None:
        worker: _Worker | None = None
        try:
            worker = self._spawn(slot)
        except SandboxError as error:
            if slot == 0:
                self._start_error = error
                self._first_ready.set()
        else:
            if slot == 0:
                self._report = worker.report
                self._first_ready.set()
        self._handles[slot] = worker
        while True:
            item = self._queue.get()
            if item is _STOP:
                self._queue.put(_STOP)  # let the other threads see it too
                return
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self._execute(slot, job))
            except BaseException as error:
                future.set_exception(error)

    def _execute(self, slot: int, job: Job) -> ProgramResult:
        key = job.cache_key() if self.cache is not None else ""
        if self.cache is not None:
            cached = self.cache.get_execution(key)
            if cached is not None:
                return ProgramResult.from_dict(cached)
        result = self._execute_on_worker(slot, job)
        if self.cache is not None:
            self.cache.put_execution(key, result.to_dict())
        return result

    def _execute_on_worker(self, slot: int, job: Job) -> ProgramResult:
        message, blobs = job.frame(next(self._ids))
        for _attempt in range(2):
            worker = self._handles[slot]
            if worker is None or worker.process.poll() is not None:
                worker = self._spawn(slot)
                self._handles[slot] = worker
            gate = self.gate() if self.gate else contextlib.nullcontext()
            with gate:
                answer = worker.run(message, blobs)
            if answer is None:  # the worker died; replace it and try once more
                worker.close()
                self._handles[slot] = None
                continue
            if "error" in answer:
                raise SandboxError(f"the execution worker failed: {answer['error']}")
            return ProgramResult(tuple(_outcome(raw) for raw in answer["outcomes"]))
        # The worker died twice on this program: only the program can have done that
        # (where isolation is weak, it can kill its parent). A failing program is data.
        error = "the program killed its sandbox worker"
        return ProgramResult(
            tuple(TestOutcome(Verdict.RUNTIME_ERROR, error=error) for _ in job.tests)
        )

    @staticmethod
    def _shutdown(jobs: queue.SimpleQueue[Any], handles: list[_Worker | None]) -> None:
        jobs.put(_STOP)
        for worker in handles:
            if worker is not None:
                worker.close()

    def close(self) -> None:
        """Stop every worker; pending jobs are cancelled."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                item[1].cancel()
        self._queue.put(_STOP)
        for thread in self._threads:
            thread.join(timeout=30)
        self._finalizer()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def program_uids(self) -> range:
        """The uids this engine's programs run as (when uid separation is active)."""
        return range(self._uid_base, self._uid_base + self.workers)

    @property
    def isolation(self) -> IsolationReport:
        """Which isolation layers are active (starts the workers if needed)."""
        self._start()
        assert self._report is not None
        return self._report

    # -- running

    def submit(
        self,
        program: Program,
        tests: Iterable[TestCase],
        *,
        stop_on_failure: bool = False,
        limits: Limits | None = None,
        rule: GradingRule | None = None,
    ) -> Future[ProgramResult]:
        """Queue one program on ``tests``; the future holds its `ProgramResult`."""
        if program.kind is ProblemKind.FUNCTIONAL and not program.entry_point:
            raise ValueError("a functional program needs an entry point")
        self._start()
        job = Job(
            program=program,
            tests=tuple(tests),
            limits=limits or self.limits,
            rule=rule or self.rule,
            stop_on_failure=stop_on_failure,
        )
        future: Future[ProgramResult] = Future()
        if not job.tests:
            future.set_result(ProgramResult(()))
            return future
        self._queue.put((job, future))
        return future

    def run(
        self,
        program: Program,
        tests: Iterable[TestCase],
        *,
        stop_on_failure: bool = False,
        limits: Limits | None = None,
        rule: GradingRule | None = None,
    ) -> ProgramResult:
        """Run one program on ``tests`` and wait for the outcomes."""
        return self.submit(
            program, tests, stop_on_failure=stop_on_failure, limits=limits, rule=rule
        ).result()

    async def arun(
        self,
        program: Program,
        tests: Iterable[TestCase],
        *,
        stop_on_failure: bool = False,
        limits: Limits | None = None,
        rule: GradingRule | None = None,
    ) -> ProgramResult:
        """`run` for asyncio callers: awaits without blocking the event loop."""
        import asyncio  # here, not at the top: only asyncio callers pay for importing it

        future = self.submit(
            program, tests, stop_on_failure=stop_on_failure, limits=limits, rule=rule
        )
        return await asyncio.wrap_future(future)

    def run_many(
        self,
        jobs: Sequence[tuple[Program, Sequence[TestCase]]],
        *,
        stop_on_failure: bool = False,
        limits: Limits | None = None,
        rule: GradingRule | None = None,
        on_done: Callable[[int, ProgramResult], None] | None = None,
    ) -> list[ProgramResult]:
        """Run each (program, tests) pair, in parallel; results in the given order.

        ``on_done(index, result)`` is called as each job finishes (for progress bars).
        """
        futures = [
            self.submit(p, t, stop_on_failure=stop_on_failure, limits=limits, rule=rule)
            for p, t in jobs
        ]
        if on_done is not None:
            callback = on_done
            for index, future in enumerate(futures):

                def report(done: Future[ProgramResult], index: int = index) -> None:
                    if not done.cancelled() and done.exception() is None:
                        callback(index, done.result())

                future.add_done_callback(report)
        return [future.result() for future in futures]

    def run_matrix(
        self,
        programs: Sequence[Program],
        tests: Sequence[TestCase],
        *,
        limits: Limits | None = None,
        rule: GradingRule | None = None,
    ) -> list[ProgramResult]:
        """Every program on every test: the K x T outcome matrix (rows = programs)."""
        return self.run_many([(p, tests) for p in programs], limits=limits, rule=rule)
