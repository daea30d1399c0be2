"""The execution benchmark's driver: codestar, LiveCodeBench and the reference, one run.

    .venv/bin/python -m benchmarks.execution.run --workload a|b|all \\
        [--lcb-path PATH] [--workers N] [--json OUT]

For each workload it runs, one after another on the same programs and tests and with the
same number of parallel workers: the reference judge (ground truth and the programs' own
compute time), LiveCodeBench's harness (skipped with a message when no work tree is
given), codestar's engine on every test (the S* matrix) and codestar stopping at each
program's first failure (the same work LiveCodeBench does). It prints a table per
workload, the targets, and every verdict disagreement with the reference; ``--json``
writes all of it. ``--slowest N`` then runs codestar program by program on one worker and
lists where its time beyond the programs' own compute goes. See ``docs/benchmarks.md``
for the method and measured figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.execution.compare import (
    HarnessFigures,
    HarnessRun,
    TestRecord,
    compute_time,
    figures,
    reference_records,
)
from benchmarks.execution.lcb_anchor import LiveCodeBenchMissing, find_lcb_path, run_lcb
from benchmarks.execution.reference import ReferenceJudge, ReferenceOutcome
from benchmarks.execution.workload import Workload, build_workloads
from codestar.execution.engine import Engine
from codestar.execution.types import Verdict

DEFAULT_DATA_DIR = Path(
    os.environ.get("CODESTAR_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)
#: How many disagreements per harness the printed report lists (the JSON has them all).
PRINTED_DISAGREEMENTS = 25


def run_reference(
    workload: Workload, workers: int
) -> tuple[HarnessRun, list[tuple[ReferenceOutcome, ...]]]:
    """The reference judge on every test: ground truth and the programs' compute time."""
    judge = ReferenceJudge(workers=workers)
    started = time.perf_counter()
    outcomes = judge.run_many([(b.program, b.tests) for b in workload.programs], workload.limits)
    wall = time.perf_counter() - started
    return HarnessRun("reference", wall, reference_records(outcomes)), outcomes


def run_codestar(
    workload: Workload, workers: int, *, stop_on_failure: bool
) -> tuple[HarnessRun, tuple[str, ...]]:
    """codestar's engine, timed from its creation (worker start included) to the last result."""
    started = time.perf_counter()
    with Engine(workers=workers, limits=workload.limits) as engine:
        layers = engine.isolation.active  # starts the first worker
        ready = time.perf_counter()
        results = engine.run_many(
            [(b.program, b.tests) for b in workload.programs], stop_on_failure=stop_on_failure
        )
        wall = time.perf_counter() - started
    records = tuple(
        tuple(
            TestRecord(
                None if o.verdict is Verdict.NOT_RUN else o.verdict,
                (o.error or o.output[:80]).strip(),
            )
            for o in result.outcomes
        )
        for result in results
    )
    name = "codestar-stop" if stop_on_failure else "codestar"
    return HarnessRun(name, wall, records, startup_s=ready - started), layers


def run_livecodebench(workload: Workload, lcb_path: Path, workers: int) -> HarnessRun:
    """LiveCodeBench's harness; the tests after its first failure are recorded as not run."""
    lcb = run_lcb(workload, lcb_path, workers=workers)
    records = []
    for bench, verdicts, message in zip(workload.programs, lcb.verdicts, lcb.messages, strict=True):
        row = [TestRecord(v, message if v is not Verdict.PASSED else "") for v in verdicts]
        row += [TestRecord(None)] * (len(bench.tests) - len(row))
        records.append(tuple(row[: len(bench.tests)]))
    return HarnessRun("livecodebench", lcb.wall_s, tuple(records))


def slowest_programs(
    workload: Workload, outcomes: list[tuple[ReferenceOutcome, ...]], count: int
) -> list[str]:
    """codestar one program at a time on one worker: the programs it spends most time on.

    Each line gives a program's wall time in codestar, minus the compute time the
    reference measured for its tests: where the engine's overhead goes.
    """
    costs = []
    with Engine(workers=1, limits=workload.limits) as engine:
        engine.isolation  # noqa: B018 - start the worker before timing
        for bench, row in zip(workload.programs, outcomes, strict=True):
            started = time.perf_counter()
            result = engine.run(bench.program, bench.tests)
            wall = time.perf_counter() - started
            compute = sum(compute_time(o) for o in row)
            verdicts = Counter(str(o.verdict) for o in result.outcomes)
            costs.append((wall - compute, bench.name, wall, compute, verdicts))
    costs.sort(key=lambda cost: cost[0], reverse=True)
    return [
        f"- {name}: codestar {1000 * wall:.0f} ms, compute {1000 * compute:.0f} ms, "
        f"overhead {1000 * overhead:.0f} ms ({dict(verdicts)})"
        for overhead, name, wall, compute, verdicts in costs[:count]
    ]


def _table(rows: list[HarnessFigures], codestar_wall: float) -> list[str]:
    lines = [
        "| harness | wall s | startup s | tests run | tests/s | overhead ms/test "
        "| compute ratio | wall / codestar | programs passed | disagreements |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in rows:
        lines.append(
            f"| {f.harness} | {f.wall_s:.2f} | {f.startup_s:.2f} | {f.tests_run} "
            f"| {f.tests_per_s:.0f} | {f.overhead_ms_per_test:.1f} | {f.compute_ratio:.2f} "
            f"| {f.wall_s / codestar_wall:.2f} | {f.programs_passed} | {len(f.disagreements)} |"
        )
    return lines


def _report(workload: Workload, rows: list[HarnessFigures], layers: Sequence[str]) -> list[str]:
    by_name = {f.harness: f for f in rows}
    codestar, stop = by_name["codestar"], by_name["codestar-stop"]
    lines = [
        f"## {workload.name}: {workload.description}",
        f"{len(workload.programs)} programs, {workload.test_count} tests, "
        f"timeout {workload.limits.timeout_s:g} s, memory {workload.limits.memory_mb} MB; "
        f"codestar isolation: {', '.join(layers) or 'none'}",
        "",
        *_table(rows, codestar.wall_s),
        "",
    ]
    lcb = by_name.get("livecodebench")
    if lcb is not None:
        warm = stop.wall_s - stop.startup_s
        lines.append(
            f"- LiveCodeBench / codestar-stop (same early stop): {lcb.wall_s / stop.wall_s:.2f}x "
            f"({lcb.wall_s / warm:.2f}x with the engine already started); "
            f"LiveCodeBench / codestar (all tests): {lcb.wall_s / codestar.wall_s:.2f}x; "
            f"LiveCodeBench ran {lcb.tests_run} of {workload.test_count} tests"
        )
    reference = by_name["reference"]
    lines.append(f"- reference / codestar: {reference.wall_s / codestar.wall_s:.2f}x")
    lines.append(
        f"- codestar compute ratio (wall / own compute on the workers): "
        f"{codestar.compute_ratio:.2f}"
    )
    for f in rows:
        for d in f.disagreements[:PRINTED_DISAGREEMENTS]:
            where = "program" if d.test is None else f"test {d.test}"
            lines.append(
                f"- {d.harness} disagrees on {d.program} {where}: reference {d.reference}"
                f" ({d.reference_note[:60]!r}), got {d.got} ({d.got_note[:100]!r})"
            )
        if len(f.disagreements) > PRINTED_DISAGREEMENTS:
            lines.append(
                f"- ... {len(f.disagreements) - PRINTED_DISAGREEMENTS} more for {f.harness}"
            )
    return lines


def run_workload(
    workload: Workload, workers: int, lcb_path: Path | None, slowest: int = 0
) -> tuple[list[HarnessFigures], tuple[str, ...], list[str]]:
    """Every harness on ``workload``: figures, codestar's isolation layers, slowest programs."""
    names = tuple(b.name for b in workload.programs)
    reference, outcomes = run_reference(workload, workers)
    runs = [reference]
    if lcb_path is not None:
        runs.append(run_livecodebench(workload, lcb_path, workers))
    codestar, layers = run_codestar(workload, workers, stop_on_failure=False)
    stop, _ = run_codestar(workload, workers, stop_on_failure=True)
    runs += [codestar, stop]
    rows = [figures(run, reference, outcomes, names, workers) for run in runs]
    return rows, layers, slowest_programs(workload, outcomes, slowest) if slowest else []


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="codestar's execution benchmark")
    parser.add_argument("--workload", choices=("a", "b", "all"), default="all")
    parser.add_argument("--lcb-path", help="LiveCodeBench work tree (or CODESTAR_LCB_PATH)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write every figure and disagreement here")
    parser.add_argument(
        "--slowest",
        type=int,
        default=0,
        metavar="N",
        help="also list the N programs on which codestar spends the most beyond compute",
    )
    arguments = parser.parse_args(argv)

    lcb_path: Path | None
    try:
        lcb_path = find_lcb_path(arguments.lcb_path)
    except LiveCodeBenchMissing as missing:
        print(f"LiveCodeBench anchor skipped: {missing}", file=sys.stderr)
        lcb_path = None
    workloads = build_workloads(arguments.workload, arguments.data_dir, seed=arguments.seed)
    document: dict[str, Any] = {
        "workers": arguments.workers,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "lcb_path": str(lcb_path) if lcb_path else None,
        "workloads": [],
    }
    for workload in workloads:
        rows, layers, slowest = run_workload(
            workload, arguments.workers, lcb_path, arguments.slowest
        )
        report = _report(workload, rows, layers)
        if slowest:
            report += ["", f"codestar's {len(slowest)} costliest programs (one worker):", *slowest]
        print("\n".join(report) + "\n", flush=True)
        document["workloads"].append(
            {
                "name": workload.name,
                "description": workload.description,
                "programs": len(workload.programs),
                "tests": workload.test_count,
                "timeout_s": workload.limits.timeout_s,
                "isolation": list(layers),
                "figures": [asdict(f) for f in rows],
                "slowest_programs": slowest,
            }
        )
    if arguments.json is not None:
        arguments.json.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
