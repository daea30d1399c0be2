"""Deciding which candidate to return, given what the stages found.

Pure functions over trace records: no model calls, no execution. `by_wins` chooses a
cluster from the pairwise comparisons under one of two rules:

- ``algorithm-1`` (the paper): the most wins; ties by cluster size, then a seeded
  random choice. One agreed win between two singletons beats a 10-member cluster that
  was never beaten but won nothing.
- ``weighted-wins`` (the default): execution evidence first. Each cluster starts with
  its size as votes (its members agree on every input); a win over a cluster takes that
  cluster's votes, a loss gives this cluster's votes away:
  ``score(X) = |X| + sum(|Y| for Y beaten by X) - sum(|X| for each Y that beat X)``.
  A singleton that beats a 10-member cluster outscores it (11 to 0); a singleton that
  beats another singleton (2) does not outscore a 10-member cluster nobody beat (10).
  Ties by size, then the seeded random choice.
- ``size-first``: the largest cluster wins outright; the judge only decides between
  clusters tied for the largest (S* then compares only those), by the same votes, so
  one judgement can never overturn a size difference. On the embedded models' own
  pools the judge was right on 15 of the 18 decided comparisons that mattered (1.5B,
  HumanEval) while the larger of two clusters was the correct one more often still,
  so a judgement outweighing a size difference cost problems; see docs/results/.

Every rule can break the remaining ties on execution evidence first (``failures``,
`SolveConfig.prefer_clean`): among clusters tied on score and size, the one whose
members crashed, timed out or hit a limit on the fewest kept inputs. It is only a
tie-break, not a score: on HumanEval, correct clusters also crash on synthesized
inputs that break a precondition the statement states (an empty list where it
promises one element), so failed runs are weak evidence against a cluster, but
better than a coin when nothing else tells two clusters apart.

The other rules serve the baselines; `dual_agreement` is CodeT's. Every rule returns a
`Selection` that says in words why it chose what it chose.

Fallbacks, documented once here:
- nothing passes the public tests: the candidate whose final program passes the most
  public tests, then the earliest sample (`fallback`);
- no candidate produced any program: no selection (``candidate=None``);
- every kept candidate behaves the same on every kept input: one cluster, no
  comparison, its first member (with no usable input at all, distinct programs are
  distinct clusters instead; see the clustering stage).
Within a cluster the first (earliest) member is returned: members behaved identically
on every input, so any would do, and the earliest is reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from codestar.execution.types import TestOutcome
from codestar.pipeline.trace import Candidate, Cluster, Comparison, Selection


def rng_for(seed: int, problem_id: str) -> random.Random:
    """The tie-breaking random source of one problem: the same for the same seed and
    problem, whatever else runs beside it.

    >>> rng_for(0, "p1").random() == rng_for(0, "p1").random()
    True
    """
    return random.Random(f"{seed}:{problem_id}")


def passing(candidates: Iterable[Candidate]) -> tuple[Candidate, ...]:
    """The candidates whose final program passes every public test."""
    return tuple(c for c in candidates if c.passed)


def with_code(candidates: Iterable[Candidate]) -> tuple[Candidate, ...]:
    """The candidates that have a program at all."""
    return tuple(c for c in candidates if c.code is not None)


def fallback(candidates: Sequence[Candidate]) -> Selection:
    """When nothing passes the public tests: most public tests passed, then earliest."""
    usable = with_code(candidates)
    if not usable:
        return Selection(
            candidate=None, rule="no-program", reason="no candidate produced any program"
        )
    best = max(usable, key=lambda c: (c.passed_count, -c.index))
    return Selection(
        candidate=best.index,
        rule="fallback-most-public-passed",
        reason=(
            f"no candidate passes every public test; candidate {best.index} passes the most "
            f"({best.passed_count}), earliest on ties"
        ),
        scores=MappingProxyType({c.index: float(c.passed_count) for c in usable}),
    )


def only(candidate: Candidate, *, rule: str = "only-candidate") -> Selection:
    """The one candidate a single-sample method has (``None`` when it has no program)."""
    if candidate.code is None:
        return Selection(candidate=None, rule="no-program", reason="the sample has no program")
    state = "passes" if candidate.passed else "does not pass"
    return Selection(
        candidate=candidate.index,
        rule=rule,
        reason=f"the only candidate; it {state} the public tests",
    )


def _best_key(
    keys: Sequence[int],
    scores: Mapping[int, float],
    sizes: Mapping[int, float],
    rng: random.Random,
    failures: Mapping[int, int] | None = None,
) -> tuple[int, str]:
    """The key with the highest score, then the largest size, then (when ``failures``
    is given) the fewest failed runs, then a seeded random pick; also says which of
    these decided."""
    top = max(scores[k] for k in keys)
    best = [k for k in keys if scores[k] == top]
    if len(best) == 1:
        return best[0], "score"
    biggest = max(sizes[k] for k in best)
    best = [k for k in best if sizes[k] == biggest]
    if len(best) == 1:
        return best[0], "size"
    if failures is not None:
        fewest = min(failures.get(k, 0) for k in best)
        cleaner = [k for k in best if failures.get(k, 0) == fewest]
        if len(cleaner) == 1:
            return cleaner[0], "clean"
        best = cleaner
    return rng.choice(sorted(best)), "random"


def weighted_wins(
    clusters: Sequence[Cluster], comparisons: Iterable[Comparison]
) -> dict[int, float]:
    """Votes per cluster: its size, plus the size of each cluster it beat, less its own
    size for each cluster that beat it (undecided comparisons move nothing).

    >>> from codestar.pipeline.trace import Cluster, Comparison
    >>> big, a, b = Cluster(0, tuple(range(10))), Cluster(1, (10,)), Cluster(2, (11,))
    >>> weighted_wins([big, a, b], [Comparison(first=1, second=2, representatives=(10, 11),
    ...                                        winner=1)])
    {0: 10.0, 1: 2.0, 2: 0.0}
    """
    sizes = {c.index: len(c.members) for c in clusters}
    scores = {index: float(size) for index, size in sizes.items()}
    for comparison in comparisons:
        winner = comparison.winner
        if winner is None or winner not in sizes:
            continue
        loser = comparison.second if winner == comparison.first else comparison.first
        if loser in sizes:
            scores[winner] += sizes[loser]
            scores[loser] -= sizes[loser]
    return scores


def failed_runs(
    clusters: Sequence[Cluster], outcomes: Mapping[int, Sequence[TestOutcome]]
) -> dict[int, int]:
    """Per cluster, on how many kept inputs its representative did not run cleanly
    (crash, timeout, a limit); ``outcomes`` are the clustering's, by candidate.

    >>> from codestar.execution.types import TestOutcome, Verdict
    >>> ok, crash = TestOutcome(Verdict.COMPLETED), TestOutcome(Verdict.RUNTIME_ERROR)
    >>> failed_runs([Cluster(0, (4, 5)), Cluster(1, (6,))], {4: [ok, crash], 6: [ok, ok]})
    {0: 1, 1: 0}
    """
    return {
        c.index: sum(not o.verdict.ran_cleanly for o in outcomes.get(c.representative, ()))
        for c in clusters
    }


def wins(clusters: Sequence[Cluster], comparisons: Iterable[Comparison]) -> dict[int, float]:
    """Pairwise wins per cluster index (a comparison without agreement scores nobody)."""
    scores = {c.index: 0.0 for c in clusters}
    for comparison in comparisons:
        if comparison.winner is not None and comparison.winner in scores:
            scores[comparison.winner] += 1.0
    return scores


def by_wins(
    clusters: Sequence[Cluster],
    comparisons: Sequence[Comparison],
    rng: random.Random,
    *,
    inputs: int | None = None,
    rule: str = "algorithm-1",
    failures: Mapping[int, int] | None = None,
) -> Selection:
    """The cluster chosen by ``rule`` (see the module docstring: ``algorithm-1``, the
    paper's most wins, or ``weighted-wins``); ties by size, then by the fewest failed
    runs when ``failures`` is given, then a seeded random choice; its first member is
    returned.

    ``failures`` maps a cluster to the number of kept inputs on which its members
    crashed, timed out or hit a limit (`failed_runs`). ``inputs`` (how many inputs the
    clustering used) only sharpens the reason given for a single cluster: with none,
    nothing could tell the candidates apart.

    >>> from codestar.pipeline.trace import Cluster
    >>> a, b = Cluster(0, (0,)), Cluster(1, (1,))
    >>> by_wins([a, b], [], random.Random(0), rule="weighted-wins",
    ...         failures={0: 2, 1: 0}).cluster
    1
    """
    if not clusters:
        raise ValueError("by_wins needs at least one cluster")
    if rule not in ("algorithm-1", "weighted-wins", "size-first"):
        raise ValueError(f"unknown selection rule {rule!r}")
    weighted = rule != "algorithm-1"
    scores = weighted_wins(clusters, comparisons) if weighted else wins(clusters, comparisons)
    sizes = {c.index: len(c.members) for c in clusters}
    if len(clusters) == 1:
        only_cluster = clusters[0]
        size = len(only_cluster.members)
        reason = (
            f"all {size} kept candidates behave identically on the synthesized inputs; "
            "no comparison needed"
        )
        if inputs == 0:
            reason = (
                f"no usable synthesized input, so the {size} kept candidates cannot be told "
                "apart; the earliest is returned"
            )
        return Selection(
            candidate=only_cluster.representative,
            cluster=only_cluster.index,
            rule="single-cluster",
            reason=reason,
            scores=MappingProxyType(scores),
        )
    keys = [c.index for c in clusters]
    if rule == "size-first":
        by_size = {k: float(v) for k, v in sizes.items()}
        key, decided_by = _best_key(keys, by_size, scores, rng, failures)
        return Selection(
            candidate=next(c for c in clusters if c.index == key).representative,
            cluster=key,
            rule=rule,
            reason=_size_first_reason(key, decided_by, sizes, scores, failures),
            scores=MappingProxyType(scores),
        )
    key, decided_by = _best_key(keys, scores, sizes, rng, failures)
    chosen = next(c for c in clusters if c.index == key)
    what = "votes (size plus the votes of the clusters it beat)" if weighted else "wins"
    failed = (failures or {}).get(key, 0)
    why = {
        "score": (
            f"cluster {key} has the most {what} ({scores[key]:g})"
            if weighted
            else f"cluster {key} won the most comparisons ({scores[key]:g})"
        ),
        "size": f"cluster {key} tied on {what} ({scores[key]:g}) and is the largest tied cluster",
        "clean": (
            f"cluster {key} tied on {what} ({scores[key]:g}) and size, and failed on the "
            f"fewest kept inputs ({failed})"
        ),
        "random": f"cluster {key} tied on {what} ({scores[key]:g}) and size; seeded random pick",
    }[decided_by]
    return Selection(
        candidate=chosen.representative,
        cluster=key,
        rule=rule,
        reason=why,
        scores=MappingProxyType(scores),
    )


def _size_first_reason(
    key: int,
    decided_by: str,
    sizes: Mapping[int, int],
    votes: Mapping[int, float],
    failures: Mapping[int, int] | None,
) -> str:
    size = sizes[key]
    return {
        "score": f"cluster {key} is the largest ({size} members)",
        "size": (
            f"cluster {key} tied for the largest ({size} members) and has the most votes "
            f"of the judge's comparisons between them ({votes[key]:g})"
        ),
        "clean": (
            f"cluster {key} tied for the largest ({size} members) and on votes, and failed "
            f"on the fewest kept inputs ({(failures or {}).get(key, 0)})"
        ),
        "random": (
            f"cluster {key} tied for the largest ({size} members) and on votes; seeded random pick"
        ),
    }[decided_by]


def largest_cluster(clusters: Sequence[Cluster], rng: random.Random) -> Selection:
    """Majority vote: the largest cluster, ties by a seeded random choice."""
    if not clusters:
        raise ValueError("largest_cluster needs at least one cluster")
    sizes = {c.index: len(c.members) for c in clusters}
    scores = {k: float(v) for k, v in sizes.items()}
    key, decided_by = _best_key(list(sizes), scores, sizes, rng)
    chosen = next(c for c in clusters if c.index == key)
    tie = "; seeded random pick among equally large clusters" if decided_by == "random" else ""
    return Selection(
        candidate=chosen.representative,
        cluster=key,
        rule="largest-cluster",
        reason=f"cluster {key} is the largest ({sizes[key]} of {sum(sizes.values())}){tie}",
        scores=MappingProxyType(scores),
    )


def random_passing(candidates: Sequence[Candidate], rng: random.Random) -> Selection:
    """Public-only: a seeded random candidate among those passing the public tests."""
    kept = passing(candidates)
    if not kept:
        return fallback(candidates)
    chosen = rng.choice(sorted(kept, key=lambda c: c.index))
    return Selection(
        candidate=chosen.index,
        rule="random-passing",
        reason=f"seeded random pick among the {len(kept)} candidates passing the public tests",
    )


def by_score(scores: Mapping[int, float], rng: random.Random, *, rule: str, what: str) -> Selection:
    """The candidate with the highest score (``what`` names it), ties by a seeded random
    choice; for generated-tests (tests passed) and llm-judge (wins)."""
    if not scores:
        raise ValueError("by_score needs at least one candidate")
    ones = dict.fromkeys(scores, 1)
    key, decided_by = _best_key(sorted(scores), scores, ones, rng)
    tie = "; seeded random pick among ties" if decided_by == "random" else ""
    return Selection(
        candidate=key,
        rule=rule,
        reason=f"candidate {key} has the most {what} ({scores[key]:g}){tie}",
        scores=MappingProxyType(dict(scores)),
    )


def dual_agreement(passed_by: Mapping[int, frozenset[int]], rng: random.Random) -> Selection:
    """CodeT's dual agreement: candidates that pass exactly the same generated tests form a
    consensus set, scored (number of candidates) x (number of tests passed); the best
    set's earliest candidate wins, ties by a seeded random choice.

    ``passed_by`` maps a candidate to the generated tests it passes.

    >>> dual_agreement({0: frozenset({0}), 1: frozenset({0, 1}), 2: frozenset({0, 1})},
    ...                random.Random(0)).candidate
    1
    """
    if not passed_by:
        raise ValueError("dual_agreement needs at least one candidate")
    sets: dict[frozenset[int], list[int]] = {}
    for candidate in sorted(passed_by):
        sets.setdefault(passed_by[candidate], []).append(candidate)
    score = {tests: float(len(members) * len(tests)) for tests, members in sets.items()}
    firsts = {members[0]: tests for tests, members in sets.items()}
    scores = {first: score[tests] for first, tests in firsts.items()}
    key, decided_by = _best_key(sorted(scores), scores, dict.fromkeys(scores, 1), rng)
    tests = firsts[key]
    tie = "; seeded random pick among ties" if decided_by == "random" else ""
    return Selection(
        candidate=key,
        rule="dual-agreement",
        reason=(
            f"candidate {key} leads the best consensus set: {len(sets[tests])} candidate(s) "
            f"agreeing on {len(tests)} generated test(s), score {scores[key]:g}{tie}"
        ),
        scores=MappingProxyType(scores),
    )
