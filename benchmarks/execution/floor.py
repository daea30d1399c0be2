"""Where a whole `codestar grade` process spends its time, and the least it could take.

    .venv/bin/python -m benchmarks.execution.floor [--workers N] [--repeat 5]

`benchmarks.execution.whole_process` compares whole `codestar grade` processes with
LiveCodeBench's harness on workload (a). This benchmark splits codestar's side into the
parts that no change to the per-test path can remove, each timed on its own (medians of
``--repeat`` runs):

- **interpreter**: ``python -c pass``;
- **CLI imports**: ``codestar grade --help`` as a process (the interpreter, click, rich,
  the grade command's modules), minus nothing: it is what runs before any grading;
- **worker start**: one worker's own start-up in a fresh interpreter (its imports, the
  sandbox, the prelude, the zygote), timed inside that interpreter, plus its interpreter;
- **programs' compute**: the programs' own run time on workload (a), summed over the
  tests as the sandboxed children measure it, divided by the workers (fully used cores);
- **grading wall**: the same grading on an engine that is already warm, from the first
  submit to the last result (the per-program and per-test overheads are the difference
  to the programs' compute).

The floor is CLI imports + worker start + programs' compute: a process that
imported nothing it does not need, started its workers in no time beyond their imports
and graded with zero per-test overhead would still take that long, as long as it starts
Python workers with the prelude for each command. A second floor lets the workers start
while the CLI imports (they start after it today). Divide the anchor's time from
`whole_process` by a floor to get the best ratio that design can reach on this machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.execution.lcb_anchor import REPO_ROOT
from benchmarks.execution.run import DEFAULT_DATA_DIR
from benchmarks.execution.workload import build_overhead_workload
from codestar.execution.engine import Engine
from codestar.execution.types import Limits, Verdict

#: A worker's start-up, timed inside a fresh interpreter (what `worker.serve` does first).
WORKER_START = """
import time
started = time.perf_counter()
from codestar.execution.prelude import build_prelude
from codestar.execution.sandbox import Sandbox
from codestar.execution.zygote import Zygote
import codestar.execution.worker
sandbox = Sandbox("auto", {uid})
zygote = Zygote(build_prelude(), sandbox.confine_zygote)
sandbox.adopt_zygote(zygote.pid, zygote.inactive)
sandbox.report()
print(time.perf_counter() - started)
zygote.close()
sandbox.close()
"""


def _environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)  # as users run it: with .pyc files
    environment["PYTHONPATH"] = str(REPO_ROOT / "src")
    return environment


def _process_s(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=_environment())
    return time.perf_counter() - started


def _worker_start_s(uid: int) -> float:
    python = sys.executable
    started = time.perf_counter()
    finished = subprocess.run(
        [python, "-c", WORKER_START.format(uid=uid)],
        check=True,
        capture_output=True,
        text=True,
        env=_environment(),
    )
    total = time.perf_counter() - started
    inside = float(finished.stdout.strip().splitlines()[-1])
    interpreter = _process_s([python, "-c", "pass"])
    return min(total, inside + interpreter)


def _grading(workers: int) -> tuple[float, float, int]:
    """Warm-engine grading wall, the programs' summed compute, and the tests run."""
    workload = build_overhead_workload(DEFAULT_DATA_DIR)
    limits = Limits(timeout_s=6)
    with Engine(workers=workers) as engine:
        first = workload.programs[0]
        engine.run(first.program, first.tests[:1])
        started = time.perf_counter()
        futures = [
            engine.submit(bench.program, bench.tests, limits=limits, stop_on_failure=True)
            for bench in workload.programs
        ]
        results = [future.result() for future in futures]
        wall = time.perf_counter() - started
    compute = sum(o.elapsed_s for result in results for o in result.outcomes)
    ran = sum(1 for result in results for o in result.outcomes if o.verdict != Verdict.NOT_RUN)
    return wall, compute, ran


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    python = sys.executable
    codestar = str(Path(python).with_name("codestar"))
    _process_s([codestar, "grade", "--help"])  # writes the .pyc files
    rows: dict[str, list[float]] = {
        "interpreter": [],
        "CLI imports": [],
        "worker start": [],
        "programs' compute": [],
        "grading wall": [],
    }
    tests = 0
    for attempt in range(args.repeat):
        rows["interpreter"].append(_process_s([python, "-c", "pass"]))
        rows["CLI imports"].append(_process_s([codestar, "grade", "--help"]))
        rows["worker start"].append(_worker_start_s(70_000_000 + attempt))
        wall, compute, tests = _grading(args.workers)
        rows["programs' compute"].append(compute / args.workers)
        rows["grading wall"].append(wall)
    median = {name: statistics.median(values) for name, values in rows.items()}
    print(f"workload (a): {tests} tests run, {args.workers} workers, {args.repeat} runs\n")
    print("| part | median s |\n|---|---:|")
    for name, value in median.items():
        print(f"| {name} | {value:.3f} |")
    floor = median["CLI imports"] + median["worker start"] + median["programs' compute"]
    overhead = median["grading wall"] - median["programs' compute"]
    overlapped = max(median["CLI imports"], median["worker start"]) + median["programs' compute"]
    print(f"\nfloor (CLI imports + worker start + compute / workers): {floor:.3f} s")
    print(f"floor with the workers starting beside the CLI's imports: {overlapped:.3f} s")
    print(
        f"grading beyond the programs' compute: {overhead:.3f} s "
        f"({overhead * args.workers * 1000 / max(1, tests):.3f} core-ms per test)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
