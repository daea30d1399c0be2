"""The Ray executor on a real two-node cluster: same results as a local engine, jobs on
both nodes, each node's isolation reported, the run store shared with local runs."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codestar.distributed.executor import RayExecutor
from codestar.errors import SandboxError
from codestar.execution.engine import Engine, Job
from codestar.execution.types import GradingRule, Limits, Program, ProgramResult
from codestar.llm.store import RunStore
from codestar.problems.model import ProblemKind, TestCase

LIMITS = Limits(timeout_s=3, memory_mb=512)

DOUBLE = Program("print(int(input()) * 2)")
WRONG = Program("print(int(input()) + 2)")  # right only on 2
CRASH = Program("x = int(input())\nraise SystemExit(3 if x else 0)")
FUNCTIONAL = Program(
    "def double(x):\n    return [x, x * 2]", kind=ProblemKind.FUNCTIONAL, entry_point="double"
)


def jobs() -> list[tuple[Program, tuple[TestCase, ...]]]:
    """Stdin and functional programs with right answers, wrong answers and crashes."""
    made = []
    for index in range(12):
        stdin = (TestCase(f"{index}\n", f"{2 * index}\n"), TestCase("2\n", "4\n"))
        made += [(DOUBLE, stdin), (WRONG, stdin), (CRASH, stdin)]
        made.append((FUNCTIONAL, (TestCase(f"{index}", f"[{index}, {2 * index}]"),)))
    return made


def digest(result: ProgramResult) -> list[tuple[str, str, str]]:
    """What a run decided, without its timings."""
    return [(o.verdict.value, o.output, o.output_digest) for o in result.outcomes]


@pytest.fixture(scope="module")
def local_results() -> list[list[tuple[str, str, str]]]:
    with Engine(workers=2, limits=LIMITS) as engine:
        futures = [engine.submit(p, t) for p, t in jobs()]
        return [digest(f.result()) for f in futures]


@pytest.fixture(scope="module")
def executor(cluster: Any) -> Iterator[RayExecutor]:
    with RayExecutor(limits=LIMITS) as running:
        yield running


def test_jobs_run_on_both_nodes_with_the_same_results_as_a_local_engine(
    executor: RayExecutor, local_results: list[list[tuple[str, str, str]]]
) -> None:
    before = executor.stats()
    futures = [executor.submit(p, t) for p, t in jobs()]
    assert [digest(f.result()) for f in futures] == local_results
    after = executor.stats()
    done = {
        node: count - before.completed_by_node.get(node, 0)
        for node, count in after.completed_by_node.items()
    }
    assert len(done) == 2 and all(count > 0 for count in done.values())
    assert sum(done.values()) == len(futures) == after.dispatched - before.dispatched
    assert {"passed", "wrong_answer", "runtime_error"} <= {
        verdict for result in local_results for verdict, _, _ in result
    }


def test_each_node_reports_the_isolation_layers_of_a_local_engine(
    executor: RayExecutor,
) -> None:
    with Engine(workers=1) as engine:
        local = engine.isolation
    nodes = executor.nodes
    assert len({node.node_id for node in nodes}) == 2
    for node in nodes:
        assert node.workers == 1  # a CPU each
        assert node.isolation.mode == local.mode
        assert set(node.isolation.active) == set(local.active)
    assert executor.workers == 2


def test_arun_from_an_event_loop(executor: RayExecutor) -> None:
    async def both() -> list[ProgramResult]:
        return await asyncio.gather(
            executor.arun(DOUBLE, [TestCase("21\n", "42\n")], stop_on_failure=True),
            executor.arun(WRONG, [TestCase("21\n", "42\n")], stop_on_failure=True),
        )

    right, wrong = asyncio.run(both())
    assert right.passed and right.outcomes[0].output.strip() == "42"
    assert wrong.outcomes[0].verdict.value == "wrong_answer"


def test_a_run_store_filled_by_a_local_engine_answers_the_ray_executor(
    cluster: Any, tmp_path: Path, local_results: list[list[tuple[str, str, str]]]
) -> None:
    with RunStore(tmp_path) as store:
        with Engine(workers=2, limits=LIMITS, cache=store) as engine:
            for future in [engine.submit(p, t) for p, t in jobs()]:
                future.result()
        with RayExecutor(limits=LIMITS, cache=store) as executor:
            futures = [executor.submit(p, t) for p, t in jobs()]
            assert [digest(f.result()) for f in futures] == local_results
            assert executor.stats().dispatched == 0
            assert executor.stats().cached == len(futures)
            # And what the cluster runs, the driver keeps under the local engine's key.
            new = (TestCase("99\n", "198\n"),)
            assert executor.run(DOUBLE, new).passed
            assert executor.stats().dispatched == 1
        key = Job(DOUBLE, new, LIMITS, GradingRule(), stop_on_failure=False).cache_key()
        assert store.get_execution(key)["passed"] is True
        assert len(store.calls()) == 0  # executions only; no model call was made


def test_large_test_sets_travel_through_the_object_store(executor: RayExecutor) -> None:
    numbers = " ".join(str(i) for i in range(40_000))  # about 230 kB of input
    big = [TestCase(numbers + "\n", f"{sum(range(40_000))}\n")]
    total = Program("print(sum(map(int, input().split())))")
    futures = [executor.submit(total, big) for _ in range(6)]
    assert all(f.result().passed for f in futures)
    wrong = executor.run(Program("print(len(input().split()))"), big)
    assert wrong.outcomes[0].verdict.value == "wrong_answer"


def test_nodes_that_cannot_start_an_engine_are_named_in_one_error(cluster: Any) -> None:
    # An isolation mode no worker accepts: every node's engine fails to start.
    with pytest.raises(SandboxError, match="no node of the Ray cluster can run programs"):
        RayExecutor(isolation="no-such-mode")  # type: ignore[arg-type]


def test_a_crashed_node_engine_is_restarted_and_its_jobs_are_sent_again(
    cluster: Any, local_results: list[list[tuple[str, str, str]]]
) -> None:
    slow = Program("import time\ntime.sleep(0.3)\nprint(int(input()) * 2)")
    work = [(slow, tests) for _, tests in jobs()[:8]] + jobs()
    with RayExecutor(limits=LIMITS) as executor:
        victim = executor.nodes[-1]
        futures = [executor.submit(p, t) for p, t in work]
        while executor.stats().completed_by_node.get(victim.node_id, 0) < 1:
            time.sleep(0.01)
        os.kill(victim.pid, signal.SIGKILL)  # the actor process, as an OOM kill would
        results = [digest(f.result()) for f in futures]
        stats = executor.stats()
        restarted = {node.node_id for node in executor.nodes}
    assert results[8:] == local_results
    assert stats.resubmitted >= 1
    assert len(restarted) == 2  # the node was kept: Ray restarted its actor


def test_closing_cancels_the_jobs_still_pending(cluster: Any) -> None:
    sleeper = Program("import time\ntime.sleep(5)\nprint(1)")
    with RayExecutor(limits=LIMITS) as executor:
        futures = [executor.submit(sleeper, [TestCase("", "1\n")]) for _ in range(8)]
    assert all(future.cancelled() for future in futures)
    with pytest.raises(SandboxError, match="closed"):
        executor.submit(sleeper, [TestCase("", "1\n")])
