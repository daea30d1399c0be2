"""Grading 400 real programs across a two-node Ray cluster gives a local grade's verdicts.

The programs are one gpt-4o-mini solution per LiveCodeBench release_v1 problem, each
graded on its problem's public tests as `codestar grade` does (stopping at the first
failure); the verdicts of every test are compared, not only pass/fail. A second run
loses a node halfway and must still give every verdict once and the same.

A handful of these programs run for seconds, near the 6 s limit: whether one of them
times out depends on the load of the moment (it does between two local runs too). For
those *borderline* programs, a test that took at least half the limit in either run,
the only difference allowed is ``passed`` against ``timeout``; every other program must
get exactly the same verdicts.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol

import pytest

from codestar.distributed.executor import RayExecutor
from codestar.execution.engine import Engine
from codestar.execution.types import Limits, Program, ProgramResult
from codestar.problems import load_problems
from codestar.problems.model import TestCase

pytestmark = pytest.mark.slow

Job = tuple[str, Program, tuple[TestCase, ...]]


class Submits(Protocol):
    def submit(
        self, program: Program, tests: Any, *, stop_on_failure: bool = ...
    ) -> Future[ProgramResult]: ...


@pytest.fixture(scope="module")
def jobs(shared_data: Path) -> list[Job]:
    problems = {
        p.id: p for p in load_problems(shared_data / "lcb_release_v1_public.jsonl").problems
    }
    with (shared_data / "lcb_v1_gpt-4o-mini_solutions.jsonl").open() as lines:
        solutions = [json.loads(line) for line in lines]
    return [
        (s["task_id"], Program.for_problem(s["solution"], problems[s["task_id"]]),
         problems[s["task_id"]].public_tests)
        for s in solutions
    ]  # fmt: skip


BORDERLINE_S = Limits().timeout_s / 2


def grade(executor: Submits, jobs: list[Job]) -> dict[str, ProgramResult]:
    futures = [executor.submit(program, tests, stop_on_failure=True) for _, program, tests in jobs]
    return {task: future.result() for (task, _, _), future in zip(jobs, futures, strict=True)}


def assert_same_verdicts(got: dict[str, ProgramResult], local: dict[str, ProgramResult]) -> None:
    assert got.keys() == local.keys()
    borderline = {
        task
        for task in got
        if any(o.elapsed_s >= BORDERLINE_S for o in (*got[task].outcomes, *local[task].outcomes))
    }
    assert len(borderline) <= 10
    for task in got:
        mine = [o.verdict.value for o in got[task].outcomes]
        theirs = [o.verdict.value for o in local[task].outcomes]
        if task in borderline:
            # Up to the first test one run timed out on, both runs must agree.
            cut = next(
                (i for i, pair in enumerate(zip(mine, theirs, strict=True)) if "timeout" in pair),
                None,
            )
            assert mine[:cut] == theirs[:cut], task
        else:
            assert mine == theirs, task


@pytest.fixture(scope="module")
def local_results(jobs: list[Job]) -> dict[str, ProgramResult]:
    with Engine(workers=2) as engine:
        return grade(engine, jobs)


def test_400_programs_get_the_local_verdicts(
    cluster: Any, jobs: list[Job], local_results: dict[str, ProgramResult]
) -> None:
    assert len(jobs) == 400
    with RayExecutor() as executor:
        results = grade(executor, jobs)
        stats = executor.stats()
    assert_same_verdicts(results, local_results)
    kinds = {o.verdict.value for result in local_results.values() for o in result.outcomes}
    assert {"passed", "wrong_answer", "timeout", "runtime_error", "not_run"} <= kinds
    assert len(stats.completed_by_node) == 2
    assert sum(stats.completed_by_node.values()) == 400 == stats.dispatched


def test_a_node_lost_halfway_through_grading_changes_no_verdict(
    cluster: Any, spare_node: Any, jobs: list[Job], local_results: dict[str, ProgramResult]
) -> None:
    with RayExecutor() as executor:

        def kill_halfway() -> None:
            while executor.stats().completed_by_node.get(spare_node.node_id, 0) < 40:
                time.sleep(0.01)
            cluster.remove_node(spare_node, allow_graceful=False)

        killer = threading.Thread(target=kill_halfway, daemon=True)
        killer.start()
        results = grade(executor, jobs)
        killer.join(timeout=60)
        stats = executor.stats()
    assert not killer.is_alive(), "grading ended before the node could be killed"
    assert_same_verdicts(results, local_results)
    assert stats.nodes_lost == 1 and stats.resubmitted >= 1
    # Each program's verdicts come from exactly one finished run.
    assert sum(stats.completed_by_node.values()) == 400
    assert stats.dispatched == 400 + stats.resubmitted
