"""From result rows to the numbers people report: pass@1 with an interval, per method.

For each method: pass@1 over the problems that could be graded, with a 95% Wilson score
interval; the oracle pass@N of its candidate pool, and the expected pass@1 of a uniform
pick among the candidates that pass the public tests (what `public-only` draws once,
without the luck of its seed: the bar selection has to clear); the same split by
difficulty and by platform; tokens and calls per stage (new and reused); wall time; the
problems that errored or stopped early. Problems with no hidden tests are graded on
nothing: they are left out of every rate and listed, never counted as passed. `paired`
counts, for two methods, the problems one solved and the other did not.

It reads rows only; nothing here runs a program or calls a model.

    >>> low, high = wilson_interval(8, 10)
    >>> round(low, 3), round(high, 3)
    (0.49, 0.943)
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from codestar.evaluation.results import ResultRow, StageUsage

#: z for a two-sided 95% interval.
_Z95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = _Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (``(0, 1)`` for no trials).

    Unlike the normal approximation it stays inside [0, 1] and is sensible at 0 or n
    successes, which small benchmarks hit often.
    """
    if trials <= 0:
        return (0.0, 1.0)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True, slots=True)
class Rate:
    """``passed`` of ``graded`` problems, with its 95% interval."""

    passed: int
    graded: int

    @property
    def value(self) -> float | None:
        return self.passed / self.graded if self.graded else None

    def to_dict(self) -> dict[str, Any]:
        low, high = wilson_interval(self.passed, self.graded)
        return {
            "passed": self.passed,
            "graded": self.graded,
            "rate": self.value,
            "ci95": [low, high] if self.graded else None,
        }


@dataclass(frozen=True, slots=True)
class Expected:
    """An expected number of problems solved (a sum of chances) of ``graded`` problems."""

    passed: float
    graded: int

    @property
    def value(self) -> float | None:
        return self.passed / self.graded if self.graded else None

    def to_dict(self) -> dict[str, Any]:
        return {"expected_passed": round(self.passed, 3), "graded": self.graded, "rate": self.value}


def _rate(flags: Iterable[bool | None]) -> Rate:
    graded = [flag for flag in flags if flag is not None]
    return Rate(sum(graded), len(graded))


@dataclass(frozen=True, slots=True)
class MethodSummary:
    method: str
    problems: int
    pass_at_1: Rate
    pass_at_n: Rate
    by_difficulty: dict[str, Rate]
    by_platform: dict[str, Rate]
    usage: dict[str, StageUsage]
    wall_s: float
    errors: tuple[str, ...]
    stopped: tuple[str, ...]
    uses_hidden_tests: bool = False
    #: oracle pass@N of the undebugged samples (each candidate's first program)
    pass_at_n_samples: Rate = Rate(0, 0)
    #: the expected pass@1 of a uniform pick among the public-passing candidates
    random_pick: Expected = Expected(0.0, 0)

    @property
    def total_usage(self) -> StageUsage:
        return sum(self.usage.values(), StageUsage())

    def to_dict(self) -> dict[str, Any]:
        total = self.total_usage
        return {
            "method": self.method,
            "problems": self.problems,
            "pass_at_1": self.pass_at_1.to_dict(),
            "pass_at_n": self.pass_at_n.to_dict(),
            "pass_at_n_samples": self.pass_at_n_samples.to_dict(),
            "random_pick": self.random_pick.to_dict(),
            "by_difficulty": {k: v.to_dict() for k, v in self.by_difficulty.items()},
            "by_platform": {k: v.to_dict() for k, v in self.by_platform.items()},
            "usage": {stage: usage.to_dict() for stage, usage in self.usage.items()},
            "total_usage": {**total.to_dict(), "total_tokens": total.total_tokens},
            "new_calls": total.new_calls,
            "reused_calls": total.reused_calls,
            "wall_s": round(self.wall_s, 3),
            "errors": list(self.errors),
            "stopped": list(self.stopped),
            "uses_hidden_tests": self.uses_hidden_tests,
        }


@dataclass(frozen=True, slots=True)
class Paired:
    """Problems graded for both methods: only ``first`` solved, only ``second`` solved."""

    first: str
    second: str
    first_only: tuple[str, ...]
    second_only: tuple[str, ...]
    both: int
    neither: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "second": self.second,
            "wins": len(self.first_only),
            "losses": len(self.second_only),
            "both": self.both,
            "neither": self.neither,
            "first_only": list(self.first_only),
            "second_only": list(self.second_only),
        }


@dataclass(frozen=True, slots=True)
class Summary:
    methods: tuple[MethodSummary, ...]
    problems: int
    no_hidden_tests: tuple[str, ...]
    paired: tuple[Paired, ...] = field(default=())

    def method(self, name: str) -> MethodSummary:
        return next(m for m in self.methods if m.method == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "problems": self.problems,
            "methods": {m.method: m.to_dict() for m in self.methods},
            "no_hidden_tests": list(self.no_hidden_tests),
            "paired": [p.to_dict() for p in self.paired],
        }


def summarize(rows: Sequence[ResultRow], methods: Sequence[str] | None = None) -> Summary:
    """The summary of ``rows``, methods in the order given (else first seen)."""
    by_method: dict[str, list[ResultRow]] = defaultdict(list)
    for row in rows:
        by_method[row.method].append(row)
    order = list(methods) if methods is not None else list(by_method)
    order += [m for m in by_method if m not in order]
    summaries = tuple(_method_summary(name, by_method.get(name, [])) for name in order)
    problems = {row.problem_id for row in rows}
    empty = sorted({row.problem_id for row in rows if row.hidden_tests == 0 and not row.error})
    return Summary(
        methods=summaries,
        problems=len(problems),
        no_hidden_tests=tuple(empty),
        paired=_pairs(order, by_method),
    )


def _method_summary(method: str, rows: Sequence[ResultRow]) -> MethodSummary:
    difficulty: dict[str, list[bool | None]] = defaultdict(list)
    platform: dict[str, list[bool | None]] = defaultdict(list)
    usage: dict[str, StageUsage] = {}
    for row in rows:
        difficulty[row.difficulty or "unknown"].append(row.passed)
        platform[row.platform or "unknown"].append(row.passed)
        for stage, tally in row.usage.items():
            usage[stage] = usage.get(stage, StageUsage()) + tally
    return MethodSummary(
        method=method,
        problems=len(rows),
        pass_at_1=_rate(row.passed for row in rows),
        pass_at_n=_rate(row.pool_solved for row in rows),
        pass_at_n_samples=_rate(row.samples_solved for row in rows),
        random_pick=_expected(row.random_pick for row in rows),
        by_difficulty={k: _rate(v) for k, v in sorted(difficulty.items())},
        by_platform={k: _rate(v) for k, v in sorted(platform.items())},
        usage=usage,
        wall_s=sum(row.wall_s for row in rows),
        errors=tuple(row.problem_id for row in rows if row.error),
        stopped=tuple(row.problem_id for row in rows if row.stopped),
        uses_hidden_tests=any(row.uses_hidden_tests for row in rows),
    )


def _expected(chances: Iterable[float | None]) -> Expected:
    graded = [chance for chance in chances if chance is not None]
    return Expected(sum(graded), len(graded))


def _pairs(order: Sequence[str], by_method: dict[str, list[ResultRow]]) -> tuple[Paired, ...]:
    """The first method against each other one (the first is usually the one studied)."""
    if len(order) < 2:
        return ()
    first = order[0]
    mine = {row.problem_id: row.passed for row in by_method.get(first, [])}
    pairs = []
    for other in order[1:]:
        theirs = {row.problem_id: row.passed for row in by_method.get(other, [])}
        common = [p for p in mine if p in theirs and mine[p] is not None and theirs[p] is not None]
        pairs.append(
            Paired(
                first=first,
                second=other,
                first_only=tuple(p for p in common if mine[p] and not theirs[p]),
                second_only=tuple(p for p in common if theirs[p] and not mine[p]),
                both=sum(1 for p in common if mine[p] and theirs[p]),
                neither=sum(1 for p in common if not mine[p] and not theirs[p]),
            )
        )
    return tuple(pairs)
