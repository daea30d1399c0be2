"""The reference judge: one fresh ``python3`` process per test, the benchmark's ground truth.

Each test runs `benchmarks.execution.reference_child` in a new interpreter with the test
input as a real file on stdin, stdout to a real file, in a scratch directory of its own,
in a new session (so a time-out kills the whole process group). The verdict follows from
what the operating system reports, in this order:

* wall clock past ``Limits.timeout_s`` (the group is killed), or killed by the CPU-time
  limit: ``timeout``;
* stdout reached ``Limits.output_bytes`` (the file-size limit stops it): ``output_limit``;
* non-zero exit whose last stderr line is a ``MemoryError``: ``memory_limit``;
* any other non-zero exit or signal: ``runtime_error`` (error: the last stderr line);
* exit 0: the output (stdout text, or the JSON return value of a functional program) is
  graded with codestar's rule (`codestar.execution.grading.outputs_match`); a test without
  an expected output is ``completed``.

It is deliberately slow and simple: no warm processes, no reuse, nothing shared between
tests. It does not sandbox anything beyond those limits; run it only on programs you
would run yourself.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from codestar.execution.grading import outputs_match
from codestar.execution.types import GradingRule, Limits, Program, Verdict
from codestar.problems.model import ProblemKind, TestCase

CHILD_SCRIPT = Path(__file__).with_name("reference_child.py")
#: How much of an output or error an outcome keeps for reports.
KEPT_CHARS = 200
# A plain environment: no secrets of the benchmark's own environment reach the programs.
_ENVIRONMENT = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


@dataclass(frozen=True, slots=True)
class ReferenceOutcome:
    """One test's verdict from the reference judge.

    ``wall_s`` spans the whole child process (start to reaping); ``compute_s`` is the
    time the program itself ran, measured inside the child (``None`` when the child
    died before it could write it, e.g. killed at the time limit).
    """

    verdict: Verdict
    wall_s: float
    compute_s: float | None = None
    output: str = ""
    error: str | None = None


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip()[:KEPT_CHARS] if lines else ""


class ReferenceJudge:
    """Runs programs test by test, each in a fresh interpreter (see the module docstring)."""

    def __init__(self, *, python: str = sys.executable, workers: int | None = None) -> None:
        self.python = python
        self.workers = workers or os.cpu_count() or 1

    def run_test(
        self, program: Program, test: TestCase, limits: Limits, rule: GradingRule | None = None
    ) -> ReferenceOutcome:
        """Run ``program`` on one test and judge it (by default with LiveCodeBench's rule)."""
        rule = rule or GradingRule()
        scratch = Path(tempfile.mkdtemp(prefix="codestar-ref-"))
        try:
            return self._run_in(scratch, program, test, limits, rule)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def run(
        self, program: Program, tests: Sequence[TestCase], limits: Limits
    ) -> tuple[ReferenceOutcome, ...]:
        """Every test of one program, in order, one after another."""
        return tuple(self.run_test(program, test, limits) for test in tests)

    def run_many(
        self, jobs: Sequence[tuple[Program, Sequence[TestCase]]], limits: Limits
    ) -> list[tuple[ReferenceOutcome, ...]]:
        """Every test of every program, ``workers`` tests at a time; results in job order."""
        pairs = [(p, t) for p, tests in jobs for t in tests]
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            flat = list(pool.map(lambda pair: self.run_test(pair[0], pair[1], limits), pairs))
        results: list[tuple[ReferenceOutcome, ...]] = []
        start = 0
        for _, tests in jobs:
            results.append(tuple(flat[start : start + len(tests)]))
            start += len(tests)
        return results

    def _run_in(
        self, scratch: Path, program: Program, test: TestCase, limits: Limits, rule: GradingRule
    ) -> ReferenceOutcome:
        program_path = scratch / "prog.py"
        program_path.write_text(program.source, encoding="utf-8")
        input_path, output_path, error_path = scratch / "in", scratch / "out", scratch / "err"
        timing_path, result_path = scratch / "timing", scratch / "result"
        input_path.write_text(test.input, encoding="utf-8")
        command = [
            self.python, str(CHILD_SCRIPT), program.kind.value, str(program_path),
            str(timing_path), str(result_path), program.entry_point or "",
            str(limits.memory_mb), str(limits.effective_cpu_s), str(limits.output_bytes),
        ]  # fmt: skip
        timed_out = False
        started = time.perf_counter()
        with (
            input_path.open("rb") as stdin,
            output_path.open("wb") as stdout,
            error_path.open("wb") as stderr,
        ):
            child = subprocess.Popen(
                command, stdin=stdin, stdout=stdout, stderr=stderr, cwd=scratch,
                env=_ENVIRONMENT, start_new_session=True,
            )  # fmt: skip
            try:
                returncode = child.wait(timeout=limits.timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            # Kill the whole group either way: a finished program may have left children.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            returncode = child.wait()
        wall = time.perf_counter() - started
        compute = _read_float(timing_path)
        errors = error_path.read_text(encoding="utf-8", errors="replace")
        if timed_out or returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            return ReferenceOutcome(Verdict.TIMEOUT, wall, compute, error="time limit")
        if output_path.stat().st_size >= limits.output_bytes or "File too large" in errors:
            return ReferenceOutcome(Verdict.OUTPUT_LIMIT, wall, compute, error="output limit")
        if returncode != 0:
            last = _last_line(errors) or f"exit status {returncode}"
            verdict = (
                Verdict.MEMORY_LIMIT if last.startswith("MemoryError") else Verdict.RUNTIME_ERROR
            )
            return ReferenceOutcome(verdict, wall, compute, error=last)
        if program.kind is ProblemKind.FUNCTIONAL:
            if not result_path.exists():
                return ReferenceOutcome(
                    Verdict.RUNTIME_ERROR, wall, compute, error="no return value"
                )
            output = result_path.read_text(encoding="utf-8")
        else:
            output = output_path.read_bytes().decode("utf-8", errors="replace")
        if test.expected is None:
            verdict = Verdict.COMPLETED
        elif outputs_match(program.kind, output, test.expected, rule):
            verdict = Verdict.PASSED
        else:
            verdict = Verdict.WRONG_ANSWER
        return ReferenceOutcome(verdict, wall, compute, output=output[:KEPT_CHARS])


def _read_float(path: Path) -> float | None:
    try:
        return float(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
