"""`evaluate` with the Ray executor: the same rows as a local run, even when a node dies.

The benchmark: "print the largest number" problems q0..q9. The scripted model writes the
right program for some samples and a wrong one (the smallest number) for others, so the
candidates differ, inputs are synthesized, clusters formed and representatives judged:
every kind of sandboxed execution S* makes goes across the cluster. Model calls are
counted at the scripted backend, under the run store, where a server would see them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codestar.distributed.executor import RayExecutor
from codestar.evaluation.runner import EvalConfig, Evaluation, evaluate
from codestar.execution.engine import Engine
from codestar.execution.types import Limits
from codestar.llm.scripted import ScriptedBackend
from codestar.llm.store import RunStore
from codestar.llm.stored import StoredBackend
from codestar.llm.types import CompletionRequest
from codestar.pipeline.config import Models, SolveConfig
from codestar.pipeline.orchestrator import Executor
from codestar.problems.model import Problem, ProblemKind, TestCase

pytestmark = pytest.mark.slow

LIMITS = Limits(timeout_s=5, memory_mb=512)
LARGEST = "print(max(map(int, input().split())))\n"
SMALLEST = "print(min(map(int, input().split())))\n"  # right when all numbers are equal


def largest_problem(index: int) -> Problem:
    return Problem(
        id=f"q{index}",
        statement=f"Problem {index}: read integers on one line and print the largest.",
        kind=ProblemKind.STDIN,
        public_tests=(TestCase("7 7\n", "7\n"),),
        hidden_tests=(
            TestCase(f"{index} 3 9\n", f"{max(index, 9)}\n"),
            TestCase("-1 -5\n", "-1\n"),
        ),
        difficulty="easy",
        platform="test",
    )


PROBLEMS = [largest_problem(i) for i in range(10)]


def reply(request: CompletionRequest) -> str:
    if request.stage in ("generate", "debug"):
        # Problem i: samples below i % 4 are right, so the pools differ in their mix.
        index = int((request.problem_id or "q0")[1:])
        code = LARGEST if request.sample_index < index % 4 else SMALLEST
        return f"```python\n{code}```"
    if request.stage in ("inputs", "distinguish"):
        return "```\n1 2\n```\n```\n4 4\n```"
    if request.stage == "judge":
        return "Answer: B"
    return ""


def comparable(evaluation: Evaluation) -> list[dict[str, Any]]:
    """The rows without their wall times."""
    rows = []
    for row in evaluation.rows:
        data = row.to_dict()
        del data["wall_s"]
        rows.append(data)
    return rows


def run(executor: Executor, run_dir: Path, backend: ScriptedBackend) -> Evaluation:
    config = EvalConfig(
        methods=("sstar", "majority-vote"), solve=SolveConfig(samples=4, rounds=1, limits=LIMITS)
    )

    async def stored() -> Evaluation:
        with RunStore(run_dir) as store:
            models = Models(StoredBackend(backend, store))
            return await evaluate(
                PROBLEMS, models=models, engine=executor, config=config, run_dir=run_dir
            )

    return asyncio.run(stored())


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], int]:
    backend = ScriptedBackend(reply)
    with Engine(workers=2, limits=LIMITS) as engine:
        evaluation = run(engine, tmp_path_factory.mktemp("local"), backend)
    return comparable(evaluation), len(backend.requests)


def test_a_ray_eval_gives_the_rows_of_a_local_eval(
    cluster: Any, tmp_path: Path, local: tuple[list[dict[str, Any]], int]
) -> None:
    rows, calls = local
    backend = ScriptedBackend(reply)
    with RayExecutor(limits=LIMITS) as executor:
        evaluation = run(executor, tmp_path, backend)
        stats = executor.stats()
    assert comparable(evaluation) == rows
    assert len(backend.requests) == calls
    assert {row["passed"] for row in rows} == {True, False}
    assert len(stats.completed_by_node) == 2 and stats.resubmitted == 0


def kill_when_busy(
    cluster: Any, victim: Any, executor: RayExecutor, killed: list[bool]
) -> Callable[[], None]:
    """A watcher that removes ``victim`` once it has finished some jobs (so it has more
    in flight): the kill lands mid-run."""

    def watch() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if executor.stats().completed_by_node.get(victim.node_id, 0) >= 4:
                cluster.remove_node(victim, allow_graceful=False)
                killed.append(True)
                return
            time.sleep(0.01)

    return watch


def test_killing_a_node_mid_run_changes_nothing_and_repeats_no_model_call(
    cluster: Any, spare_node: Any, tmp_path: Path, local: tuple[list[dict[str, Any]], int]
) -> None:
    rows, calls = local
    victim = spare_node
    # Slow model calls stretch the run, so that the victim is killed with work on it.
    backend = ScriptedBackend(reply, latency_s=0.05)
    killed: list[bool] = []
    with RayExecutor(limits=LIMITS) as executor:
        assert victim.node_id in {node.node_id for node in executor.nodes}
        watcher = threading.Thread(target=kill_when_busy(cluster, victim, executor, killed))
        watcher.start()
        evaluation = run(executor, tmp_path, backend)
        watcher.join()
        stats = executor.stats()
        assert victim.node_id not in {node.node_id for node in executor.nodes}
    assert killed, "the run ended before the node could be killed"
    assert stats.nodes_lost == 1 and stats.resubmitted >= 1
    assert comparable(evaluation) == rows
    assert len(backend.requests) == calls  # no model call was made twice
    with RunStore(tmp_path) as store:
        assert len(store.calls()) == calls
