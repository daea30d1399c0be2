"""Sandboxed execution across a Ray cluster, behind the `Engine` interface.

    >>> from codestar.distributed.executor import open_ray_executor
    >>> with open_ray_executor("auto") as executor:          # doctest: +SKIP
    ...     executor.run(Program("print(input())"), [TestCase("1\\n", "1")]).passed
    True

`RayExecutor` has the engine's `submit` and `arun` (and a plain `run`), so the pipeline,
the evaluation runner and grading take it wherever they take an `Engine`.
Each job goes to the node actor (`codestar.distributed.node`) with the most free
capacity; at most ``2 x workers`` jobs are in flight per node, the rest wait on the
driver, so a slow or lost node never holds a backlog.

The execution cache (the run store) stays on the driver: a job is looked up before it is
dispatched and written after it returns, under the same key a local engine uses, so a
run resumes from a local run's executions and the other way round, and only the driver
writes the store.

Faults: when a node or its actor dies, its in-flight jobs are sent to the nodes left
(and a new actor is started on any node that joined); nothing is written before a job's
answer arrives, so no verdict is counted twice and a model call never depends on it.
Model calls are not made here at all: the driver makes them, under its backends' limits.

It does not start clusters (see `codestar.distributed.cluster`), schedule model calls or
decide anything about programs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

from codestar.distributed.cluster import connect, live_nodes, require_ray
from codestar.distributed.node import NodeIsolation, actor_class, check_uniform, node_isolation
from codestar.errors import CodestarError, SandboxError
from codestar.execution.engine import ExecutionCache, Job
from codestar.execution.isolation import IsolationMode
from codestar.execution.types import GradingRule, Limits, Program, ProgramResult
from codestar.problems.model import ProblemKind, TestCase

#: Test sets at least this large go to the object store once, not with every job.
SHARED_TESTS_BYTES = 64 * 1024

#: How many times one job is sent again after the node or actor running it failed.
MAX_RESUBMISSIONS = 10

#: Seconds to wait before sending a job again after its actor was restarting.
RESTART_WAIT_S = 0.5


@dataclass(slots=True)
class DispatchStats:
    """What the executor did so far, in jobs (`RayExecutor.stats` gives a copy)."""

    dispatched: int = 0  # sent to a node (resubmissions included)
    cached: int = 0  # answered by the run store, never sent
    resubmitted: int = 0  # sent again after their node was lost or restarted
    nodes_lost: int = 0
    completed_by_node: dict[str, int] = field(default_factory=dict)


class _Slot:
    """A node actor and the jobs in flight on it."""

    def __init__(self, node: NodeIsolation, actor: Any) -> None:
        self.node = node
        self.actor = actor
        self.capacity = 2 * node.workers
        self.in_flight = 0
        self.alive = True


def execution_key(job: Job) -> str:
    """The run store key of a job: the local engine's, so the two share executions."""
    return job.cache_key()


class RayExecutor:
    """Runs programs on the node actors of a connected Ray cluster (see the module).

    workers_per_node: engine workers on each node (default: the node's CPUs).
    limits, rule, isolation: as for `Engine`, the same on every node.
    cache: the run store (or any `ExecutionCache`), used on the driver only.
    uniform_isolation: refuse to start when nodes' active isolation layers differ.
    """

    def __init__(
        self,
        *,
        workers_per_node: int | None = None,
        limits: Limits | None = None,
        rule: GradingRule | None = None,
        isolation: IsolationMode = "auto",
        cache: ExecutionCache | None = None,
        uniform_isolation: bool = True,
    ) -> None:
        self._ray = require_ray()
        self.limits = limits or Limits()
        self.rule = rule or GradingRule()
        self.cache = cache
        self._workers_per_node = workers_per_node
        self._isolation_mode: IsolationMode = isolation
        self._slots: list[_Slot] = []
        self._counters = DispatchStats()
        self._lost_nodes: set[str] = set()
        self._stats_lock = threading.Lock()
        self._shared_tests: OrderedDict[str, Any] = OrderedDict()
        #: Why nodes could not start their engine (they get no work).
        self.start_failures: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="codestar-ray-dispatch", daemon=True
        )
        self._thread.start()
        self._closed = False
        self._free = asyncio.Condition()
        self._growing = asyncio.Lock()
        try:
            self._call(self._add_new_nodes())
            if not self._slots:
                reason = self.start_failures[0] if self.start_failures else "none has CPUs"
                raise SandboxError(
                    f"no node of the Ray cluster can run programs ({reason})",
                    hint="install the same codestar on every node (see docs/scaling.md)",
                )
            if uniform_isolation:
                check_uniform(self.nodes)
        except BaseException:
            self.close()
            raise

    # -- life cycle

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _add_new_nodes(self) -> int:
        """Start a node actor on every live node that has none; returns how many."""
        async with self._growing:  # one at a time, or a node would get two actors
            return await self._start_actors()

    async def _start_actors(self) -> int:
        known = {slot.node.node_id for slot in self._slots if slot.alive}
        known |= self._lost_nodes
        strategy = self._ray.util.scheduling_strategies.NodeAffinitySchedulingStrategy
        started = []
        for node in live_nodes():
            if node.node_id in known:
                continue
            workers = self._workers_per_node or node.cpus
            actor = (
                actor_class()
                .options(scheduling_strategy=strategy(node.node_id, soft=False))
                .remote(
                    workers=workers,
                    limits=self.limits,
                    rule=self.rule,
                    isolation=self._isolation_mode,
                )
            )
            started.append((node.node_id, actor))
        if not started:
            return 0
        described = await asyncio.gather(
            *(_await_ref(actor.describe.remote()) for _, actor in started), return_exceptions=True
        )
        added = 0
        for (node_id, actor), description in zip(started, described, strict=True):
            if isinstance(description, BaseException):
                # The node went away while its actor started, or cannot run one (codestar
                # missing there, its sandbox refused): it gets no work from now on.
                self._lost_nodes.add(node_id)
                self.start_failures.append(f"node {node_id[:8]}: {description}")
                continue
            self._slots.append(_Slot(node_isolation(description), actor))
            added += 1
        return added

    def close(self) -> None:
        """Stop every node's workers and the actors; pending jobs are cancelled."""
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            self._call(_cancel_pending())
        closing = [slot.actor.close.remote() for slot in self._slots if slot.alive]
        with contextlib.suppress(Exception):
            self._ray.wait(closing, num_returns=len(closing), timeout=30)
        for slot in self._slots:
            with contextlib.suppress(Exception):
                self._ray.kill(slot.actor)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def nodes(self) -> tuple[NodeIsolation, ...]:
        """Each live node's engine and its isolation layers."""
        return tuple(slot.node for slot in self._slots if slot.alive)

    @property
    def workers(self) -> int:
        """Sandboxed workers over all live nodes."""
        return sum(node.workers for node in self.nodes)

    def stats(self) -> DispatchStats:
        """A snapshot of the dispatch counters."""
        with self._stats_lock:
            counters = self._counters
            return replace(counters, completed_by_node=dict(counters.completed_by_node))

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
        if self._closed:
            raise SandboxError("the Ray executor is closed")
        job = Job(
            program=program,
            tests=tuple(tests),
            limits=limits or self.limits,
            rule=rule or self.rule,
            stop_on_failure=stop_on_failure,
        )
        if not job.tests:
            future: Future[ProgramResult] = Future()
            future.set_result(ProgramResult(()))
            return future
        return asyncio.run_coroutine_threadsafe(self._execute(job), self._loop)

    async def arun(
        self,
        program: Program,
        tests: Iterable[TestCase],
        *,
        stop_on_failure: bool = False,
        limits: Limits | None = None,
        rule: GradingRule | None = None,
    ) -> ProgramResult:
        """`submit` for asyncio callers: awaits without blocking the event loop."""
        future = self.submit(
            program, tests, stop_on_failure=stop_on_failure, limits=limits, rule=rule
        )
        return await asyncio.wrap_future(future)

    def run(self, program: Program, tests: Iterable[TestCase]) -> ProgramResult:
        """Run one program on ``tests`` with the default limits and wait (a smoke test)."""
        return self.submit(program, tests).result()

    # -- dispatch (on the executor's own event loop)

    async def _execute(self, job: Job) -> ProgramResult:
        key = execution_key(job) if self.cache is not None else ""
        if self.cache is not None:
            cached = self.cache.get_execution(key)
            if cached is not None:
                with self._stats_lock:
                    self._counters.cached += 1
                return ProgramResult.from_dict(cached)
        result = await self._dispatch(job)
        if self.cache is not None:
            self.cache.put_execution(key, result.to_dict())
        return result

    async def _dispatch(self, job: Job) -> ProgramResult:
        tests = self._tests_argument(job.tests)
        lost, unavailable = _failure_kinds(self._ray.exceptions)
        for attempt in range(MAX_RESUBMISSIONS + 1):
            slot = await self._acquire()
            with self._stats_lock:
                self._counters.dispatched += 1
                self._counters.resubmitted += 1 if attempt else 0
            try:
                ref = slot.actor.run.remote(
                    job.program, tests, job.stop_on_failure, job.limits, job.rule
                )
                result: ProgramResult = await _await_ref(ref)
            except lost:
                await self._release(slot)
                await self._lose(slot)
                continue
            except unavailable:
                # Unavailable for now (its process is restarting): wait a little, then
                # go wherever there is room.
                await self._release(slot)
                await asyncio.sleep(RESTART_WAIT_S)
                continue
            await self._release(slot)
            with self._stats_lock:
                done = self._counters.completed_by_node
                done[slot.node.node_id] = done.get(slot.node.node_id, 0) + 1
            return result
        raise SandboxError(
            f"a job was lost with its node {MAX_RESUBMISSIONS + 1} times; giving up",
            hint="check the cluster's nodes with `ray status`",
        )

    async def _acquire(self) -> _Slot:
        async with self._free:
            while True:
                live = [s for s in self._slots if s.alive]
                if not live and not await self._add_new_nodes():
                    raise SandboxError(
                        "no node of the Ray cluster is left to run programs on",
                        hint="add nodes with `ray start --address HEAD:6379`",
                    )
                free = [s for s in live if s.in_flight < s.capacity]
                if free:
                    slot = min(free, key=lambda s: s.in_flight / s.capacity)
                    slot.in_flight += 1
                    return slot
                await self._free.wait()

    async def _release(self, slot: _Slot) -> None:
        async with self._free:
            slot.in_flight -= 1
            self._free.notify()

    async def _lose(self, slot: _Slot) -> None:
        """Stop sending to a dead node's actor; look for nodes that joined meanwhile."""
        async with self._free:
            if not slot.alive:
                return
            slot.alive = False
            self._lost_nodes.add(slot.node.node_id)
            with self._stats_lock:
                self._counters.nodes_lost += 1
            self._free.notify_all()
        await self._add_new_nodes()
        async with self._free:
            self._free.notify_all()

    def _tests_argument(self, tests: tuple[TestCase, ...]) -> Any:
        """The tests themselves, or for a large set an object store reference made once."""
        size = sum(len(t.input) + len(t.expected or "") for t in tests)
        if size < SHARED_TESTS_BYTES:
            return tests
        digest = hashlib.sha256()
        for test in tests:
            for text in (test.input, test.expected):
                data = b"\xff" if text is None else text.encode("utf-8", "surrogatepass")
                digest.update(len(data).to_bytes(8, "big") + data)
        key = digest.hexdigest()
        ref = self._shared_tests.get(key)
        if ref is None:
            ref = self._ray.put(tests)
            self._shared_tests[key] = ref
            if len(self._shared_tests) > 64:
                self._shared_tests.popitem(last=False)
        else:
            self._shared_tests.move_to_end(key)
        return ref


async def _await_ref(ref: Any) -> Any:
    """Await an object reference; a job's own failure comes back as its own error."""
    ray = require_ray()
    try:
        return await asyncio.wrap_future(ref.future())
    except ray.exceptions.RayTaskError as error:
        cause = error.cause
        if isinstance(cause, CodestarError):
            raise cause from None
        raise SandboxError(f"a node's engine failed: {cause!r}") from None


async def _cancel_pending() -> None:
    """Cancel every job still on the executor's loop (their futures say cancelled)."""
    current = asyncio.current_task()
    pending = [task for task in asyncio.all_tasks() if task is not current]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def _failure_kinds(
    errors: Any,
) -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """Ray's errors for a node gone for good, and for an actor unavailable for now.

    ``ActorDiedError``: its restarts are spent; ``ActorUnschedulableError``: its node is
    gone (it is pinned there). The rest pass (a restart) and the job is sent again.
    """

    def present(*names: str) -> tuple[type[BaseException], ...]:
        return tuple(getattr(errors, name) for name in names if hasattr(errors, name))

    lost = present("ActorDiedError", "ActorUnschedulableError", "NodeDiedError")
    return lost, present("RayActorError", "WorkerCrashedError", "ObjectLostError")


@contextlib.contextmanager
def open_ray_executor(
    address: str | None = None,
    *,
    workers_per_node: int | None = None,
    limits: Limits | None = None,
    rule: GradingRule | None = None,
    isolation: IsolationMode = "auto",
    cache: ExecutionCache | None = None,
    local_cpus: int | None = None,
    uniform_isolation: bool = True,
) -> Iterator[RayExecutor]:
    """Connect to the cluster at ``address`` (see `codestar.distributed.cluster.connect`)
    and yield a `RayExecutor` over its nodes; both are closed on exit."""
    with (
        connect(address, local_cpus=local_cpus),
        RayExecutor(
            workers_per_node=workers_per_node,
            limits=limits,
            rule=rule,
            isolation=isolation,
            cache=cache,
            uniform_isolation=uniform_isolation,
        ) as executor,
    ):
        yield executor
