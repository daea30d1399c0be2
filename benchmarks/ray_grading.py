"""Grading throughput: the local engine against Ray on one node and on two nodes.

    .venv/bin/python benchmarks/ray_grading.py [--repeat 1] [--trivial 300] [--json OUT]

Three executors grade the same work on this machine, one after the other:

* ``local``: `codestar.execution.engine.Engine` with one worker per core;
* ``ray-1``: `codestar.distributed.RayExecutor` on a private one-node Ray cluster
  with the machine's cores (one engine actor, as many workers);
* ``ray-2``: the same on a two-node cluster (`ray.cluster_utils.Cluster`, all on
  127.0.0.1) that splits the cores between a head and a worker node.

The work: (a) *grading*, the 400 gpt-4o-mini solutions of LiveCodeBench release_v1 on
their public tests (``lcb_v1_gpt-4o-mini_solutions.jsonl`` and
``lcb_release_v1_public.jsonl`` from ``../shared/data``), stopping at the first failure,
all submitted at once as `codestar grade` does; (b) *trivial*, ``--trivial`` jobs of
``print(input())`` on one test, first all at once (throughput), then one at a time
(round-trip latency): the difference to the local engine is Ray's per-task overhead.
The driver's CPU time per trivial job (what bounds how many jobs one driver can feed),
the run store's write rate and the mean bytes a grading job sends are reported too:
docs/scaling.md builds its 10- and 100-node estimate on them.

The nodes share the same cores, so Ray cannot be faster here: read the overhead, not a
speed-up. Cluster start-up is timed apart and left out of the throughput. The load
average is printed, since other work on the machine shows in every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

# Ray resolves a 127.0.0.1 cluster address to the machine's outward address unless it
# is told that it runs on one host; this benchmark stays on 127.0.0.1.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from codestar.distributed.executor import RayExecutor
from codestar.execution.engine import Engine
from codestar.execution.types import Program, ProgramResult
from codestar.problems import load_problems
from codestar.problems.model import TestCase

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
STORE_BYTES = 150 * 1024 * 1024

Job = tuple[Program, tuple[TestCase, ...]]
Submit = Callable[..., Future[ProgramResult]]


def grading_jobs() -> list[Job]:
    problems = {p.id: p for p in load_problems(DATA / "lcb_release_v1_public.jsonl").problems}
    with (DATA / "lcb_v1_gpt-4o-mini_solutions.jsonl").open() as lines:
        solutions = [json.loads(line) for line in lines]
    jobs = []
    for solution in solutions:
        problem = problems[solution["task_id"]]
        jobs.append((Program.for_problem(solution["solution"], problem), problem.public_tests))
    return jobs


def trivial_jobs(count: int) -> list[Job]:
    return [(Program("print(input())"), (TestCase(f"{i}\n", f"{i}\n"),)) for i in range(count)]


def all_at_once(submit: Submit, jobs: list[Job]) -> tuple[float, list[bool]]:
    started = time.perf_counter()
    futures = [submit(program, tests, stop_on_failure=True) for program, tests in jobs]
    passed = [future.result().passed for future in futures]
    return time.perf_counter() - started, passed


def one_at_a_time(submit: Submit, jobs: list[Job]) -> list[float]:
    latencies = []
    for program, tests in jobs:
        started = time.perf_counter()
        submit(program, tests).result()
        latencies.append(time.perf_counter() - started)
    return latencies


@contextmanager
def local_engine(cores: int) -> Iterator[Engine]:
    with Engine(workers=cores) as engine:
        engine.isolation  # noqa: B018 - start the workers before the clock does
        yield engine


@contextmanager
def ray_cluster(node_cpus: list[int]) -> Iterator[RayExecutor]:
    import ray
    from ray.cluster_utils import Cluster

    common = {"node_ip_address": "127.0.0.1", "object_store_memory": STORE_BYTES}
    cluster = Cluster(
        initialize_head=True,
        connect=False,
        head_node_args={"num_cpus": node_cpus[0], "include_dashboard": False, **common},
    )
    try:
        for cpus in node_cpus[1:]:
            cluster.add_node(num_cpus=cpus, **common)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, _node_ip_address="127.0.0.1", log_to_driver=False)
        with RayExecutor() as executor:
            yield executor
    finally:
        ray.shutdown()
        cluster.shutdown()


def measure(
    name: str,
    opened: AbstractContextManager[Any],
    grading: list[Job],
    trivial: list[Job],
    repeat: int,
) -> dict[str, Any]:
    started = time.perf_counter()
    with opened as executor:
        startup = time.perf_counter() - started
        all_at_once(executor.submit, trivial[:20])  # warm: first imports in every worker
        grading_walls, passed = [], []
        for _ in range(repeat):
            wall, passed = all_at_once(executor.submit, grading)
            grading_walls.append(wall)
        cpu_started = time.process_time()
        trivial_wall, _ = all_at_once(executor.submit, trivial)
        driver_cpu = time.process_time() - cpu_started
        latencies = one_at_a_time(executor.submit, trivial[:100])
    grading_wall = min(grading_walls)
    figures = {
        "executor": name,
        "startup_s": round(startup, 2),
        "grading_wall_s": round(grading_wall, 2),
        "grading_programs_per_s": round(len(grading) / grading_wall, 1),
        "grading_passed": sum(passed),
        "trivial_jobs_per_s": round(len(trivial) / trivial_wall, 1),
        "trivial_wall_per_job_ms": round(1000 * trivial_wall / len(trivial), 2),
        "driver_cpu_per_job_ms": round(1000 * driver_cpu / len(trivial), 2),
        "round_trip_median_ms": round(1000 * statistics.median(latencies), 2),
        "round_trip_p90_ms": round(1000 * sorted(latencies)[int(0.9 * len(latencies))], 2),
        "load_average": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(figures), flush=True)
    return figures


def store_writes_per_s(grading: list[Job], results: int = 2000) -> float:
    """How fast the driver's run store takes execution results (a typical payload)."""
    import tempfile

    from codestar.llm.store import RunStore

    with Engine(workers=1) as engine:
        payload = engine.run(*grading[0]).to_dict()
    with tempfile.TemporaryDirectory() as folder, RunStore(folder) as store:
        started = time.perf_counter()
        for index in range(results):
            store.put_execution(f"key-{index}", payload)
        return results / (time.perf_counter() - started)


def payload_bytes(grading: list[Job]) -> int:
    """Mean bytes a grading job sends: its source and its tests' inputs and outputs."""
    sizes = [
        len(program.source) + sum(len(t.input) + len(t.expected or "") for t in tests)
        for program, tests in grading
    ]
    return round(statistics.mean(sizes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="grading runs per executor (best)")
    parser.add_argument("--trivial", type=int, default=300, help="trivial jobs per executor")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"the benchmark data folder {DATA} is absent")
    cores = os.cpu_count() or 1
    grading, trivial = grading_jobs(), trivial_jobs(args.trivial)
    results = [
        measure("local", local_engine(cores), grading, trivial, args.repeat),
        measure("ray-1", ray_cluster([cores]), grading, trivial, args.repeat),
        measure("ray-2", ray_cluster([max(1, cores // 2), max(1, cores - cores // 2)]),
                grading, trivial, args.repeat),
    ]  # fmt: skip
    base = results[0]
    for row in results[1:]:
        row["grading_overhead_vs_local"] = round(row["grading_wall_s"] / base["grading_wall_s"], 3)
        row["round_trip_overhead_ms"] = round(
            row["round_trip_median_ms"] - base["round_trip_median_ms"], 2
        )
        row["trivial_overhead_per_job_ms"] = round(
            row["trivial_wall_per_job_ms"] - base["trivial_wall_per_job_ms"], 2
        )
    report = {
        "cores": cores,
        "results": results,
        "store_writes_per_s": round(store_writes_per_s(grading)),
        "grading_job_payload_bytes": payload_bytes(grading),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
