"""Group candidates by behaviour: equal outputs on every input means one cluster.

Every kept candidate runs on every synthesized input (identical programs run once). An
input on which *every* candidate crashes, times out or exceeds a limit says nothing about
which is right (usually the input itself is invalid), so it is discarded before grouping.
The key of a candidate is its `ProgramResult.output_signature()` restricted to the kept
inputs; with no kept input at all, every candidate falls into one cluster.

Clusters are numbered in order of their first member, so the numbering is reproducible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codestar.execution.types import TestOutcome
from codestar.pipeline.orchestrator import Event
from codestar.pipeline.trace import Candidate, Cluster
from codestar.problems.model import TestCase

if TYPE_CHECKING:
    from codestar.pipeline.orchestrator import Run


@dataclass(frozen=True, slots=True)
class Clustering:
    """The clusters, the inputs kept and discarded, and each candidate's outcomes on the
    kept inputs (by candidate index)."""

    clusters: tuple[Cluster, ...]
    inputs: tuple[str, ...]
    discarded: tuple[str, ...]
    outcomes: Mapping[int, tuple[TestOutcome, ...]]

    def cluster_of(self, candidate: int) -> Cluster:
        return next(c for c in self.clusters if candidate in c.members)


def _mark(outcome: TestOutcome) -> str:
    return outcome.output if outcome.verdict.ran_cleanly else f"!{outcome.verdict.value}"


async def cluster(run: Run, candidates: Sequence[Candidate], inputs: Sequence[str]) -> Clustering:
    """Run ``candidates`` (each must have a program) on ``inputs`` and group them."""
    if any(c.code is None for c in candidates):
        raise ValueError("every clustered candidate needs a program")
    sources = sorted({c.code for c in candidates if c.code is not None})
    tests = [TestCase(text) for text in inputs]
    results = dict(zip(sources, await run.execute_each(sources, tests), strict=True))
    kept = [
        j
        for j in range(len(inputs))
        if any(r.outcomes[j].verdict.ran_cleanly for r in results.values())
    ]
    groups: dict[tuple[str, ...], list[int]] = {}
    outcomes: dict[int, tuple[TestOutcome, ...]] = {}
    for candidate in candidates:
        assert candidate.code is not None
        result = results[candidate.code]
        signature = result.output_signature()
        groups.setdefault(tuple(signature[j] for j in kept), []).append(candidate.index)
        outcomes[candidate.index] = tuple(result.outcomes[j] for j in kept)
    ordered = sorted(groups.values(), key=lambda members: members[0])
    clusters = tuple(
        Cluster(number, tuple(members), tuple(_mark(o) for o in outcomes[members[0]]))
        for number, members in enumerate(ordered)
    )
    run.emit(Event("clustered", f"{len(candidates)} candidates in {len(clusters)} clusters"))
    kept_set = set(kept)
    return Clustering(
        clusters=clusters,
        inputs=tuple(inputs[j] for j in kept),
        discarded=tuple(text for j, text in enumerate(inputs) if j not in kept_set),
        outcomes=outcomes,
    )
