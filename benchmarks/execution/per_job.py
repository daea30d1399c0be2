"""The engine's fixed cost per job and its cost per test, on one worker.

    .venv/bin/python -m benchmarks.execution.per_job [--jobs 100] [--tests 1 30 100]

Runs ``--jobs`` jobs of trivial programs (``print(i)``) with each number of tests in
``--tests`` on a one-worker engine that is already warm, and prints the milliseconds per
job. The slope between the rows is the cost of one test (memfds, two socket messages,
the verdict), the intercept the cost of one job (the child from the zygote, the scratch
directory, the sweep, the child's exit). Workload (a) of `benchmarks.execution.run` is
dominated by these two numbers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from codestar.execution.engine import Engine
from codestar.execution.types import Program
from codestar.problems.model import TestCase


def per_job_ms(engine: Engine, jobs: int, tests: int) -> float:
    """Milliseconds per job for ``jobs`` trivial programs of ``tests`` tests each."""
    start = time.perf_counter()
    futures = [
        engine.submit(Program(f"print({i})"), [TestCase("", str(i))] * tests) for i in range(jobs)
    ]
    for future in futures:
        if not future.result().passed:
            raise RuntimeError("a trivial program failed: the engine is broken")
    return (time.perf_counter() - start) * 1000 / jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--tests", type=int, nargs="+", default=[1, 30, 100])
    args = parser.parse_args()
    with Engine(workers=1) as engine:
        engine.run(Program("print(1)"), [TestCase("", "1")])  # warm
        rows = [(tests, per_job_ms(engine, args.jobs, tests)) for tests in args.tests]
    print("| tests per job | ms per job |\n|---:|---:|")
    for tests, ms in rows:
        print(f"| {tests} | {ms:.2f} |")
    if len(rows) >= 2:
        (t0, m0), (t1, m1) = rows[0], rows[-1]
        slope = (m1 - m0) / (t1 - t0)
        print(f"per test: {slope:.3f} ms; fixed per job: {m0 - slope * t0:.2f} ms")


if __name__ == "__main__":
    main()
