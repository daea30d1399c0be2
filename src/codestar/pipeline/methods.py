"""Every method of the paper as a composition of the same stages, in a name registry.

A method is ``async def method(run: Run) -> SolveResult``; `METHODS` maps its kebab-case
name to it and `get_method` looks one up with a message listing the valid names. Each
docstring gives the paper's definition and where ours differs, and why. The methods say
what depends on what; the `Run` makes independent work overlap (see `orchestrator`).

    sample N -> [debug R] -> select
    zero-shot       N=1, R=0, the sample
    self-debug      N=1, R,   the sample after debugging
    majority-vote   N,   R=0, largest output cluster on synthesized inputs
    public-only     N,   R,   a random candidate passing the public tests
    generated-tests N,   R,   CodeT's dual agreement on model-written tests
    llm-judge       N,   R,   pairwise judging from code alone
    sstar           N,   R,   clusters + distinguishing inputs + judge (weighted wins)
    oracle          N,   R,   any candidate passing the hidden tests (pass@N; a bound)
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from codestar.errors import ConfigError
from codestar.execution.types import TestOutcome, Verdict
from codestar.pipeline import selection
from codestar.pipeline.orchestrator import Event
from codestar.pipeline.stages import (
    Clustering,
    cluster,
    compare_clusters,
    develop,
    develop_all,
    generate_tests,
    judge_code,
    synthesize_inputs,
)
from codestar.pipeline.stages.synthesis import Synthesized
from codestar.pipeline.trace import (
    Candidate,
    Cluster,
    Comparison,
    GeneratedTest,
    Selection,
    SolveResult,
)
from codestar.problems.model import TestCase

if TYPE_CHECKING:
    from codestar.pipeline.orchestrator import Run

Method = Callable[["Run"], Awaitable[SolveResult]]

METHODS: dict[str, Method] = {}


def register(name: str) -> Callable[[Method], Method]:
    """Add a method to the registry under ``name`` (kebab-case)."""

    def add(function: Method) -> Method:
        METHODS[name] = function
        return function

    return add


def get_method(name: str) -> Method:
    """The method registered as ``name``; `ConfigError` listing the valid names if none."""
    try:
        return METHODS[name]
    except KeyError:
        raise ConfigError(
            f"unknown method {name!r}", hint=f"choose one of {', '.join(METHODS)}"
        ) from None


def _program(candidates: Sequence[Candidate], chosen: Selection) -> str | None:
    if chosen.candidate is None:
        return None
    return next(c.code for c in candidates if c.index == chosen.candidate)


def _cluster_pairs(clusters: Sequence[Cluster], cap: int | None) -> list[tuple[int, int]]:
    """Cluster pairs to compare: all of them, or the first ``cap`` when the largest
    clusters are paired first (the likeliest winners are compared before stragglers)."""
    by_size = sorted(clusters, key=lambda c: (-len(c.members), c.index))
    pairs = [
        (min(a.index, b.index), max(a.index, b.index))
        for a, b in itertools.combinations(by_size, 2)
    ]
    return pairs if cap is None else pairs[:cap]


def _input_fields(parsed: Synthesized, clustering: Clustering | None = None) -> dict[str, Any]:
    """The trace fields about inputs: what was synthesized, and what clustering kept."""
    fields: dict[str, Any] = {
        "inputs": parsed.inputs,
        "input_sources": parsed.sources,
        "inputs_dropped": parsed.dropped,
        "inputs_completion": parsed.completion,
        "inputs_retry_completion": parsed.retry_completion,
    }
    if clustering is not None:
        fields["inputs"] = clustering.inputs
        fields["input_sources"] = clustering.sources
        fields["inputs_separating"] = MappingProxyType(dict(clustering.separating))
        fields["inputs_discarded"] = clustering.discarded
        fields["clusters"] = clustering.clusters
    return fields


def _fails_everywhere(outcomes: Sequence[TestOutcome]) -> bool:
    """No input on which the program ran cleanly and printed (or returned) something."""
    return not any(o.verdict.ran_cleanly and o.output.strip() for o in outcomes)


async def _without_broken(
    run: Run, kept: Sequence[Candidate], parsed: Synthesized, clustering: Clustering
) -> tuple[Clustering, tuple[int, ...]]:
    """The clustering of ``kept`` without the candidates that fail on every kept input
    (crash, time out, or print nothing), and their indices; the clustering as it is when
    there is no kept input or when no candidate would be left."""
    excluded = tuple(
        c.index
        for c in kept
        if clustering.inputs and _fails_everywhere(clustering.outcomes[c.index])
    )
    if not excluded or len(excluded) == len(kept):
        return clustering, ()
    rest = tuple(c for c in kept if c.index not in excluded)
    return await cluster(run, rest, parsed.inputs, sources=parsed.sources), excluded


@register("zero-shot")
async def zero_shot(run: Run) -> SolveResult:
    """Zero-shot: one sample, returned as is.

    Paper: one sample per problem (Table 1, "zero-shot"). Ours: the same; it still runs
    the public tests once, only to report whether the sample passes them. ``samples``
    and ``rounds`` are ignored.
    """
    run.effective(samples=1, rounds=0)
    candidate = await develop(run, 0, rounds=0)
    run.mark("candidates")
    chosen = selection.only(candidate)
    return run.result(
        program=_program([candidate], chosen), selection=chosen, candidates=(candidate,)
    )


@register("self-debug")
async def self_debug(run: Run) -> SolveResult:
    """Self-debugging: one sample, debugged up to R rounds on the public tests.

    Paper: sequential scaling alone, with the full history of earlier rounds and their
    execution feedback. Ours: the same; ``samples`` is ignored. When the last rounds
    produce no code, the candidate keeps its last program (the reference loses it).
    """
    run.effective(samples=1)
    candidate = await develop(run, 0, rounds=run.config.rounds)
    run.mark("candidates")
    chosen = selection.only(candidate)
    return run.result(
        program=_program([candidate], chosen), selection=chosen, candidates=(candidate,)
    )


@register("majority-vote")
async def majority_vote(run: Run) -> SolveResult:
    """Majority vote: N samples, clustered by their outputs on the synthesized inputs, a
    member of the largest cluster.

    Paper: parallel scaling with output-based voting, no debugging and no public-test
    filter. Ours: the same, with two fairness rules: a candidate that fails on every
    kept input (crashes, times out, or prints nothing) does not vote
    (``voters_excluded``; unless no candidate would be left), and with no usable input
    the votes are for identical programs, not one cluster of everything. Ties between
    equally large clusters go to a seeded random choice. Inputs are synthesized (model,
    retry, mutants of the public inputs, as for S*) while the samples are generated.
    """
    run.effective(rounds=0)
    inputs_task = run.background(synthesize_inputs(run))
    candidates = await develop_all(run, samples=run.config.samples, rounds=0)
    run.mark("candidates")
    voters = selection.with_code(candidates)
    parsed = await inputs_task
    run.mark("inputs")
    if not voters:
        chosen = selection.fallback(candidates)
        return run.result(
            program=None, selection=chosen, candidates=candidates, **_input_fields(parsed)
        )
    clustering = await cluster(run, voters, parsed.inputs, sources=parsed.sources)
    clustering, excluded = await _without_broken(run, voters, parsed, clustering)
    run.mark("clusters")
    chosen = selection.largest_cluster(clustering.clusters, run.rng)
    return run.result(
        program=_program(candidates, chosen),
        selection=chosen,
        candidates=candidates,
        voters_excluded=excluded,
        **_input_fields(parsed, clustering),
    )


@register("public-only")
async def public_only(run: Run) -> SolveResult:
    """Public tests only: N samples debugged R rounds, a random one passing them.

    Paper (selection ablation): pick among the candidates that pass the public tests.
    Ours: a seeded random pick among them, after the same generation stage as S* so that
    only selection differs; when none passes, the documented fallback (most public
    tests passed, then the earliest sample).
    """
    candidates = await develop_all(run, samples=run.config.samples, rounds=run.config.rounds)
    run.mark("candidates")
    chosen = selection.random_passing(candidates, run.rng)
    return run.result(program=_program(candidates, chosen), selection=chosen, candidates=candidates)


@register("generated-tests")
async def generated_tests(run: Run) -> SolveResult:
    """Generated tests, CodeT's dual agreement: the model writes input/output tests;
    candidates that pass exactly the same tests form a consensus set, scored
    (candidates in it) x (tests it passes); the best set's earliest candidate wins.

    Paper (selection ablation): model-generated tests with predicted outputs score the
    candidates. CodeT (Chen et al. 2022) scores by this dual agreement, so that
    neither a lone candidate passing many wrong tests nor many candidates agreeing on
    few tests wins by itself. Ours: among the candidates passing the public tests (all
    candidates with a program when none does); ties by a seeded random choice. The
    tests are written while candidates are being debugged.
    """
    tests_task = run.background(generate_tests(run))
    candidates = await develop_all(run, samples=run.config.samples, rounds=run.config.rounds)
    run.mark("candidates")
    parsed = await tests_task
    run.mark("inputs")
    pool = selection.passing(candidates) or selection.with_code(candidates)
    if not pool:
        chosen = selection.fallback(candidates)
        return run.result(program=None, selection=chosen, candidates=candidates)
    results = await run.execute_each([c.code or "" for c in pool], parsed.tests)
    passed_by = {
        c.index: frozenset(
            j for j, outcome in enumerate(r.outcomes) if outcome.verdict is Verdict.PASSED
        )
        for c, r in zip(pool, results, strict=True)
    }
    generated = tuple(
        GeneratedTest(
            input=test.input,
            expected=test.expected or "",
            passed_by=tuple(c.index for c in pool if j in passed_by[c.index]),
        )
        for j, test in enumerate(parsed.tests)
    )
    chosen = selection.dual_agreement(passed_by, run.rng)
    return run.result(
        program=_program(candidates, chosen),
        selection=chosen,
        candidates=candidates,
        inputs_dropped=parsed.dropped,
        inputs_completion=parsed.completion,
        generated_tests=generated,
    )


@register("llm-judge")
async def llm_judge(run: Run) -> SolveResult:
    """LLM judge: pairwise judging of the candidates from their code alone.

    Paper (selection ablation): the model compares candidates without executing them.
    Ours: among the candidates passing the public tests (identical programs judged
    once, as their first sample), every pair is judged twice with the order swapped
    and a win counts only when both answers agree; most wins, ties by a seeded random
    choice. ``max_comparisons`` caps the pairs (earliest samples first).
    """
    candidates = await develop_all(run, samples=run.config.samples, rounds=run.config.rounds)
    run.mark("candidates")
    kept = selection.passing(candidates)
    if not kept:
        chosen = selection.fallback(candidates)
        return run.result(
            program=_program(candidates, chosen), selection=chosen, candidates=candidates
        )
    distinct = list({c.code: c for c in reversed(kept)}.values())[::-1]
    pairs = list(itertools.combinations(distinct, 2))
    if run.config.max_comparisons is not None:
        pairs = pairs[: run.config.max_comparisons]
    comparisons: list[Comparison] = await run.gather(
        *(run.memo(("code", a.index, b.index), partial(judge_code, run, a, b)) for a, b in pairs)
    )
    run.mark("comparisons")
    scores = {c.index: 0.0 for c in distinct}
    for comparison in comparisons:
        if comparison.winner is not None:
            scores[comparison.winner] += 1.0
    chosen = selection.by_score(scores, run.rng, rule="most-judge-wins", what="judge wins")
    return run.result(
        program=_program(candidates, chosen),
        selection=chosen,
        candidates=candidates,
        comparisons=tuple(comparisons),
    )


@register("sstar")
async def sstar(run: Run) -> SolveResult:
    """S*: N samples debugged R rounds, then adaptive input synthesis (Algorithm 1).

    Paper: keep the candidates passing the public tests; cluster them by their outputs
    on model-written inputs; for each pair of clusters, the model writes inputs that
    would separate one representative of each, both run, and the model judges from the
    real outputs; the cluster with the most wins is returned (ties by size, then a
    seeded random choice). Ours differs in: inputs are synthesized while candidates are
    still being debugged, from the model (retried when fewer than 2 parse) *and* as
    mutants of the public inputs; inputs on which most candidates crash are
    discarded; a kept candidate that fails on every kept input (crashes, times out or
    prints nothing; ``exclude_broken``) takes no part in the choice unless every one
    does; with no usable input, distinct programs are distinct clusters; every
    judgement is asked twice with the order swapped and counts only when both agree;
    the judge sees only real outputs, never predicted ones or pass/fail marks, on the
    model's distinguishing inputs and the clustering inputs where the pair differs;
    the choice weighs judge wins with cluster sizes (``selection_rule``, default
    ``weighted-wins``; ``algorithm-1`` is the paper's). Fallbacks: nothing passes the
    public tests -> most public tests passed, then the earliest sample; one cluster ->
    no comparison.
    """
    inputs_task = run.background(synthesize_inputs(run))
    candidates = await develop_all(run, samples=run.config.samples, rounds=run.config.rounds)
    run.mark("candidates")
    kept = selection.passing(candidates)
    parsed = await inputs_task
    run.mark("inputs")
    if not kept:
        chosen = selection.fallback(candidates)
        return run.result(
            program=_program(candidates, chosen),
            selection=chosen,
            candidates=candidates,
            **_input_fields(parsed),
        )
    clustering = await cluster(run, kept, parsed.inputs, sources=parsed.sources)
    excluded: tuple[int, ...] = ()
    if run.config.exclude_broken:
        clustering, excluded = await _without_broken(run, kept, parsed, clustering)
    run.mark("clusters")
    contenders = clustering.clusters
    if run.config.selection_rule == "size-first":  # the judge only breaks ties in size
        largest = max(len(c.members) for c in contenders)
        contenders = tuple(c for c in contenders if len(c.members) == largest)
    planned = len(contenders) * (len(contenders) - 1) // 2
    pairs = _cluster_pairs(contenders, run.config.max_comparisons)
    if pairs:
        run.emit(
            Event(
                "comparing",
                f"{len(pairs)} of {planned} cluster pairs, {3 * len(pairs)} model calls",
            )
        )
    comparisons: list[Comparison] = await run.gather(
        *(
            run.memo(
                ("clusters", a, b), partial(compare_clusters, run, a, b, candidates, clustering)
            )
            for a, b in pairs
        )
    )
    run.mark("comparisons")
    failures = (
        selection.failed_runs(clustering.clusters, clustering.outcomes)
        if run.config.prefer_clean
        else None
    )
    chosen = selection.by_wins(
        clustering.clusters,
        comparisons,
        run.rng,
        inputs=len(clustering.inputs),
        rule=run.config.selection_rule,
        failures=failures,
    )
    return run.result(
        program=_program(candidates, chosen),
        selection=chosen,
        candidates=candidates,
        comparisons=tuple(comparisons),
        comparisons_planned=planned,
        voters_excluded=excluded,
        **_input_fields(parsed, clustering),
    )


@register("oracle")
async def oracle(run: Run) -> SolveResult:
    """Oracle (pass@N): the earliest candidate that passes every hidden test.

    Paper: the upper bound of any selector over the same N candidates. Ours: N samples
    debugged R rounds, each final program run on the hidden tests; when none passes,
    the documented fallback. Needs hidden tests (a `ConfigError` otherwise); it is a
    measuring stick, never a way to solve unseen problems, and its result says so
    (``uses_hidden_tests``, rule ``oracle``).
    """
    hidden: tuple[TestCase, ...] = run.problem.hidden_tests
    if not hidden:
        raise ConfigError(
            f"the oracle needs hidden tests and problem {run.problem.id!r} has none",
            hint="use a benchmark problem with hidden tests, or another method",
        )
    candidates = await develop_all(run, samples=run.config.samples, rounds=run.config.rounds)
    run.mark("candidates")
    pool = selection.with_code(candidates)
    results = await run.execute_each([c.code or "" for c in pool], hidden)
    run.mark("hidden")
    winners = [c.index for c, r in zip(pool, results, strict=True) if r.passed]
    if winners:
        chosen = Selection(
            candidate=winners[0],
            rule="oracle",
            reason=(
                f"{len(winners)} of {len(candidates)} candidates pass the hidden tests; "
                f"the earliest is {winners[0]}"
            ),
            scores=MappingProxyType(
                {c.index: float(r.passed_count) for c, r in zip(pool, results, strict=True)}
            ),
        )
    else:
        chosen = selection.fallback(candidates)
    return run.result(
        program=_program(candidates, chosen),
        selection=chosen,
        candidates=candidates,
        uses_hidden_tests=True,
    )
