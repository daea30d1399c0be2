"""Group candidates by behaviour: equal outputs on every input means one cluster.

Every kept candidate runs on every input (identical programs run once). An input on
which *most* candidates crash, time out or exceed a limit is most likely invalid (a
mutant that breaks a constraint, a model input in the wrong format), so it is
discarded before grouping; so is one on which every candidate crashes.

The key of a candidate is its outputs on the kept inputs, canonicalised as the grader
compares them (``0.5`` and ``0.500000`` are one output, so are ``1`` and ``1.0`` in a
returned value; see `canonical_output`), or the verdict for a run that did not finish
cleanly. With no kept input at all, nothing was observed: *distinct programs* are then
distinct clusters (identical source up to formatting and comments is one cluster), so
that distinguish-and-judge still has something to compare instead of one cluster by
default.

Clusters are numbered in order of their first member, so the numbering is reproducible.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from codestar.execution.types import TestOutcome
from codestar.pipeline.extraction import parse_python
from codestar.pipeline.orchestrator import Event
from codestar.pipeline.trace import Candidate, Cluster
from codestar.problems.model import ProblemKind, TestCase

if TYPE_CHECKING:
    from codestar.pipeline.orchestrator import Run


@dataclass(frozen=True, slots=True)
class Clustering:
    """The clusters, the inputs kept and discarded, each candidate's outcomes on the kept
    inputs (by candidate index), and where each kept input came from (``sources``,
    parallel to ``inputs``: model, retry, script, mutation)."""

    clusters: tuple[Cluster, ...]
    inputs: tuple[str, ...]
    discarded: tuple[str, ...]
    outcomes: Mapping[int, tuple[TestOutcome, ...]]
    sources: tuple[str, ...] = ()
    #: Per source, how many kept inputs told at least two candidates apart (what each
    #: source contributed to the clustering).
    separating: Mapping[str, int] = field(default_factory=dict)

    def cluster_of(self, candidate: int) -> Cluster:
        return next(c for c in self.clusters if candidate in c.members)


def canonical_output(text: str, kind: ProblemKind) -> str:
    """An output written the way the grader compares it: numbers as exact decimals.

    >>> canonical_output("0.500000 \\n1e2\\n", ProblemKind.STDIN) == canonical_output(
    ...     "0.5\\n100", ProblemKind.STDIN)
    True
    >>> canonical_output("[1.0, true]", ProblemKind.FUNCTIONAL)
    '[1, 1]'
    """
    if kind is ProblemKind.FUNCTIONAL:
        try:
            return json.dumps(_canonical_value(json.loads(text)), sort_keys=True)
        except (ValueError, RecursionError, TypeError):
            return text.strip()
    lines = [line.split() for line in text.strip().split("\n")]
    return "\n".join(" ".join(_canonical_token(t) for t in tokens) for tokens in lines)


def _canonical_token(token: str) -> str:
    if len(token) > 60 or not any(c.isdigit() for c in token):
        return token
    try:
        number = Decimal(token)
    except (InvalidOperation, ValueError):
        return token
    if not number.is_finite() or not all(c in "0123456789+-.eE" for c in token):
        return token
    return "0" if number == 0 else str(number.normalize())


def _canonical_value(value: Any) -> Any:
    # Python equality, as the grader uses: True == 1 == 1.0.
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, list):
        return [_canonical_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _canonical_value(v) for k, v in value.items()}
    return value


def outcome_key(outcome: TestOutcome, kind: ProblemKind, *, canonical: bool = True) -> str:
    """What one run contributes to a clustering signature: a digest of its (canonical)
    output, or ``!verdict`` for a run that did not finish cleanly."""
    if not outcome.verdict.ran_cleanly:
        return f"!{outcome.verdict.value}"
    if not canonical:
        return outcome.output_digest
    text = canonical_output(outcome.output, kind)
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def _program_key(code: str) -> str:
    """Identical programs up to formatting and comments share a key."""
    tree = parse_python(code)
    return ast.dump(tree) if tree is not None else code.strip()


def _mark(outcome: TestOutcome) -> str:
    return outcome.output if outcome.verdict.ran_cleanly else f"!{outcome.verdict.value}"


async def cluster(
    run: Run,
    candidates: Sequence[Candidate],
    inputs: Sequence[str],
    *,
    sources: Sequence[str] | None = None,
) -> Clustering:
    """Run ``candidates`` (each must have a program) on ``inputs`` and group them."""
    if any(c.code is None for c in candidates):
        raise ValueError("every clustered candidate needs a program")
    origin = list(sources) if sources is not None else ["model"] * len(inputs)
    program_sources = sorted({c.code for c in candidates if c.code is not None})
    tests = [TestCase(text) for text in inputs]
    results = dict(
        zip(program_sources, await run.execute_each(program_sources, tests), strict=True)
    )
    canonical = run.config.canonical_outputs
    kind = run.problem.kind

    def key(outcome: TestOutcome) -> str:
        return outcome_key(outcome, kind, canonical=canonical)

    kept = []
    for j in range(len(inputs)):
        crashed = sum(
            not results[c.code].outcomes[j].verdict.ran_cleanly
            for c in candidates
            if c.code is not None
        )
        if crashed * 2 <= len(candidates) and crashed < len(candidates):
            kept.append(j)
    groups: dict[tuple[str, ...], list[int]] = {}
    outcomes: dict[int, tuple[TestOutcome, ...]] = {}
    signature_of: dict[int, tuple[str, ...]] = {}
    for candidate in candidates:
        assert candidate.code is not None
        result = results[candidate.code]
        signature = tuple(key(result.outcomes[j]) for j in kept)
        signature_of[candidate.index] = signature
        if not kept:
            signature = (_program_key(candidate.code),)
        groups.setdefault(signature, []).append(candidate.index)
        outcomes[candidate.index] = tuple(result.outcomes[j] for j in kept)
    ordered = sorted(groups.values(), key=lambda members: members[0])
    clusters = tuple(
        Cluster(number, tuple(members), tuple(_mark(o) for o in outcomes[members[0]]))
        for number, members in enumerate(ordered)
    )
    how = "on their outputs" if kept else "by program text (no usable input)"
    run.emit(Event("clustered", f"{len(candidates)} candidates in {len(clusters)} clusters {how}"))
    kept_set = set(kept)
    separating: dict[str, int] = {}
    for position, j in enumerate(kept):
        if len({signature_of[c.index][position] for c in candidates}) > 1:
            separating[origin[j]] = separating.get(origin[j], 0) + 1
    return Clustering(
        clusters=clusters,
        inputs=tuple(inputs[j] for j in kept),
        discarded=tuple(text for j, text in enumerate(inputs) if j not in kept_set),
        outcomes=outcomes,
        sources=tuple(origin[j] for j in kept),
        separating=separating,
    )
