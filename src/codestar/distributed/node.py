"""The per-node actor: one `Engine` (a pool of sandboxed workers) on one Ray node.

    NodeEngine(workers=4, limits=Limits(), rule=GradingRule(), isolation="auto")
    await node.run(program, tests, stop_on_failure=True, limits=..., rule=...)
    node.describe()  ->  {"node_id": ..., "host": ..., "pid": ..., "workers": 4, "isolation": ...}

The executor (`codestar.distributed.executor`) starts one of these on each node, pinned
there, and sends it jobs; the node runs them on its own warm workers with the same
isolation layers a local engine has (the node reports which are active, since each
machine may allow different ones). It is a plain class: `actor_class` wraps it with
``ray.remote`` only when a cluster is used, so importing this module needs no Ray.

`NodeIsolation` is what a node reports of itself; `check_uniform` refuses nodes whose
sandboxes differ. It keeps no cache and writes no store: the driver does both, so the
run store stays the single source of truth however many nodes answer.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codestar.errors import SandboxError
from codestar.execution.engine import Engine
from codestar.execution.isolation import IsolationMode, IsolationReport
from codestar.execution.types import GradingRule, Limits, Program, ProgramResult
from codestar.problems.model import TestCase


class NodeEngine:
    """An execution engine living in a Ray actor on one node."""

    def __init__(
        self, *, workers: int, limits: Limits, rule: GradingRule, isolation: IsolationMode
    ) -> None:
        self._engine = Engine(workers=workers, limits=limits, rule=rule, isolation=isolation)

    async def run(
        self,
        program: Program,
        tests: Sequence[TestCase],
        stop_on_failure: bool,
        limits: Limits,
        rule: GradingRule,
    ) -> ProgramResult:
        """One program on ``tests`` on this node's workers (many run at once)."""
        return await self._engine.arun(
            program, tests, stop_on_failure=stop_on_failure, limits=limits, rule=rule
        )

    def describe(self) -> dict[str, Any]:
        """Where this node is and which isolation layers its workers have (starts them)."""
        from ray import get_runtime_context

        report = self._engine.isolation
        return {
            "node_id": get_runtime_context().get_node_id(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "workers": self._engine.workers,
            "isolation": report.to_dict(),
        }

    def close(self) -> None:
        """Stop the workers (the actor is killed right after)."""
        self._engine.close()


@dataclass(frozen=True, slots=True)
class NodeIsolation:
    """One node's engine: where it runs, how many workers, which isolation layers.

    ``pid`` is the engine actor's process on its host when the executor started (for
    operators: what a crash or an out-of-memory kill takes down, and Ray restarts).
    """

    node_id: str
    host: str
    pid: int
    workers: int
    isolation: IsolationReport


def node_isolation(description: dict[str, Any]) -> NodeIsolation:
    report = description["isolation"]
    return NodeIsolation(
        node_id=description["node_id"],
        host=description["host"],
        pid=int(description["pid"]),
        workers=int(description["workers"]),
        isolation=IsolationReport(
            mode=report["mode"], active=tuple(report["active"]), inactive=report["inactive"]
        ),
    )


def check_uniform(nodes: Sequence[NodeIsolation]) -> None:
    layers = {node.isolation.active for node in nodes}
    if len(layers) > 1:
        shown = "; ".join(
            f"{n.host} {n.node_id[:8]}: {', '.join(n.isolation.active)}" for n in nodes
        )
        raise SandboxError(
            f"the nodes' sandboxes differ ({shown})",
            hint="give every node the same isolation prerequisites (see docs/scaling.md)",
        )


_ACTOR: Any = None


def actor_class() -> Any:
    """`NodeEngine` as a Ray actor class (made once per process)."""
    global _ACTOR
    if _ACTOR is None:
        from ray import remote

        # No CPUs reserved for the actor itself: its engine's workers use the node's
        # CPUs, and the executor sizes the engine by them. Restarts cover a crashed
        # actor process on a live node; a dead node is the executor's to route around.
        _ACTOR = remote(num_cpus=0, max_restarts=2, max_task_retries=0)(NodeEngine)
    return _ACTOR
