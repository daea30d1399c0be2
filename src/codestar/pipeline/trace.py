"""The record of a solve run: every candidate and round, every comparison, the decision.

A `SolveResult` is what a method returns: the selected program plus everything needed to
explain it (candidates with all their rounds and per-public-test verdicts, synthesized
inputs, output clusters, each comparison with its inputs, real outputs and both judge
answers, the selection rule and why, tokens per stage, timings). Everything is a frozen
dataclass; `SolveResult.to_dict()` gives the JSON form `codestar solve --json` prints.

This module only describes; the stages build these records and `selection` decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from codestar.execution.types import TestOutcome, Verdict
from codestar.llm.types import Usage

#: Why a round produced no program.
RoundFailure = Literal["truncated", "no_code", "context_length"]


def _frozen(value: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True, slots=True)
class TestReport:
    """One program's run on one test, as the trace shows it."""

    __test__ = False

    input: str
    expected: str | None
    verdict: Verdict
    output: str = ""
    error: str | None = None

    @classmethod
    def of(cls, test_input: str, expected: str | None, outcome: TestOutcome) -> TestReport:
        return cls(test_input, expected, outcome.verdict, outcome.output, outcome.error)

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "expected": self.expected,
            "verdict": self.verdict.value,
            "output": self.output,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Round:
    """One model answer for a candidate: round 0 is the sample, later rounds are fixes.

    ``code`` is ``None`` when the round produced no program (``failure`` says why); such
    a round is kept in the history and the candidate keeps its previous program.
    ``notes`` say what was done to the answer to get ``code`` (statements dropped by the
    sanitizer, helper blocks joined, a complete block kept from a reply cut off at
    ``max_tokens``).
    """

    index: int
    completion: str
    finish_reason: str | None
    code: str | None
    failure: RoundFailure | None = None
    tests: tuple[TestReport, ...] = ()
    usage: Usage = field(default_factory=Usage)
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True when the round has a program that passes every public test (vacuously
        when the problem has none)."""
        return self.code is not None and all(t.verdict is Verdict.PASSED for t in self.tests)

    @property
    def passed_count(self) -> int:
        return sum(t.verdict is Verdict.PASSED for t in self.tests)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "completion": self.completion,
            "finish_reason": self.finish_reason,
            "code": self.code,
            "failure": self.failure,
            "passed": self.passed,
            "tests": [t.to_dict() for t in self.tests],
            "usage": usage_dict(self.usage),
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class Candidate:
    """One sample and its debug rounds; its program is the last round that had one."""

    index: int
    rounds: tuple[Round, ...]

    @property
    def final(self) -> Round | None:
        """The last round with a program (``None`` when no round had one)."""
        return next((r for r in reversed(self.rounds) if r.code is not None), None)

    @property
    def code(self) -> str | None:
        final = self.final
        return final.code if final is not None else None

    @property
    def passed(self) -> bool:
        """True when the final program passes every public test."""
        final = self.final
        return final is not None and final.passed

    @property
    def passed_count(self) -> int:
        final = self.final
        return final.passed_count if final is not None else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "code": self.code,
            "passed_public": self.passed,
            "public_passed": self.passed_count,
            "rounds": [r.to_dict() for r in self.rounds],
        }


@dataclass(frozen=True, slots=True)
class Cluster:
    """Candidates that behaved identically on every kept input.

    ``outputs`` are the first member's outputs (or ``!verdict`` marks) per input.
    """

    index: int
    members: tuple[int, ...]
    outputs: tuple[str, ...] = ()

    @property
    def representative(self) -> int:
        return self.members[0]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "members": list(self.members), "outputs": list(self.outputs)}


Choice = Literal["A", "B"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """One pairwise judgement between two clusters (or two candidates, for llm-judge).

    ``first`` and ``second`` are cluster indices (candidate indices for llm-judge),
    ``representatives`` the candidates shown. ``inputs_source`` says where the shown
    inputs came from: the model's distinguishing inputs, the clustering inputs (model
    and mutated) on which the two differ, both, or none. ``answers`` are the judge's parsed answers
    with ``first`` shown as A, then with the order swapped (``second`` shown as A).
    ``winner`` is set only when both answers agree.
    """

    first: int
    second: int
    representatives: tuple[int, int]
    inputs: tuple[str, ...] = ()
    inputs_dropped: int = 0
    inputs_source: Literal["model", "model+clustering", "clustering", "none"] = "none"
    inputs_completion: str = ""
    first_outputs: tuple[TestReport, ...] = ()
    second_outputs: tuple[TestReport, ...] = ()
    answers: tuple[Choice | None, Choice | None] = (None, None)
    judgements: tuple[str, str] = ("", "")
    winner: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "second": self.second,
            "representatives": list(self.representatives),
            "inputs": list(self.inputs),
            "inputs_dropped": self.inputs_dropped,
            "inputs_source": self.inputs_source,
            "inputs_completion": self.inputs_completion,
            "first_outputs": [t.to_dict() for t in self.first_outputs],
            "second_outputs": [t.to_dict() for t in self.second_outputs],
            "answers": list(self.answers),
            "judgements": list(self.judgements),
            "winner": self.winner,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """Which candidate was returned, by which rule, and why (in words).

    ``scores`` maps a cluster (or candidate) index to its score where a rule scores.
    """

    candidate: int | None
    rule: str
    reason: str
    cluster: int | None = None
    scores: Mapping[int, float] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "cluster": self.cluster,
            "rule": self.rule,
            "reason": self.reason,
            "scores": {str(k): v for k, v in self.scores.items()},
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class GeneratedTest:
    """A model-written input/output test (generated-tests method) and who passed it."""

    __test__ = False

    input: str
    expected: str
    passed_by: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"input": self.input, "expected": self.expected, "passed_by": list(self.passed_by)}


def usage_dict(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "calls": usage.calls,
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class SolveResult:
    """Everything a method did on one problem, and the program it chose.

    ``inputs`` are the synthesized inputs kept for clustering; ``inputs_discarded`` the
    ones every candidate crashed on; ``inputs_dropped`` the malformed ones the parser
    threw away; ``inputs_completion`` the input writer's whole answer. ``usage`` maps a
    stage name to its tokens and calls; ``timings`` holds seconds since the start at
    which each phase ended, plus ``total_s``. ``cached`` is the part of ``usage``
    answered by the run store (free); ``cost`` the money spent per stage (answers from
    the store excluded), ``None`` without a price table. ``stopped`` says which budget
    ended the run early (``None``: it ran to completion); the selection was then made
    from what had finished.

    ``input_sources`` is parallel to ``inputs``: where each came from (``model``,
    ``retry``, ``script``, ``mutation``); ``inputs_separating`` counts, per source, the
    kept inputs on which the clustered candidates did not all agree (what each source
    contributed); ``inputs_retry_completion`` is the input
    writer's answer to the retry prompt. ``context_overflows`` lists the stages whose
    prompt did not fit the context (each became "no answer", never a failed problem).
    ``comparisons_planned`` is how many cluster pairs there were to compare before any
    cap (each costs one distinguish and two judge calls). ``voters_excluded`` are
    candidates majority vote (and S*, with ``exclude_broken``) left out because they
    failed on every kept input.
    ``uses_hidden_tests`` is True for the oracle: a bound, not a selector.
    """

    problem_id: str
    method: str
    program: str | None
    selection: Selection
    candidates: tuple[Candidate, ...] = ()
    inputs: tuple[str, ...] = ()
    inputs_dropped: int = 0
    inputs_discarded: tuple[str, ...] = ()
    inputs_completion: str = ""
    clusters: tuple[Cluster, ...] = ()
    comparisons: tuple[Comparison, ...] = ()
    generated_tests: tuple[GeneratedTest, ...] = ()
    usage: Mapping[str, Usage] = field(default_factory=_frozen)
    cached: Mapping[str, Usage] = field(default_factory=_frozen)
    cost: Mapping[str, float] | None = None
    stopped: str | None = None
    timings: Mapping[str, float] = field(default_factory=_frozen)
    config: Mapping[str, Any] = field(default_factory=_frozen)
    models: Mapping[str, str] = field(default_factory=_frozen)
    input_sources: tuple[str, ...] = ()
    inputs_separating: Mapping[str, int] = field(default_factory=_frozen)
    inputs_retry_completion: str = ""
    context_overflows: tuple[str, ...] = ()
    comparisons_planned: int = 0
    voters_excluded: tuple[int, ...] = ()
    uses_hidden_tests: bool = False

    @property
    def selected(self) -> Candidate | None:
        index = self.selection.candidate
        return None if index is None else self.candidates[index]

    @property
    def total_usage(self) -> Usage:
        total = Usage()
        for usage in self.usage.values():
            total = total + usage
        return total

    @property
    def total_cost(self) -> float | None:
        """Money spent on this problem (``None`` without a price table)."""
        return None if self.cost is None else sum(self.cost.values())

    def _usage_dict(self, usage: Usage, cached: Usage, cost: float | None) -> dict[str, Any]:
        entry: dict[str, Any] = usage_dict(usage)
        entry["cached_calls"] = cached.calls
        entry["cached_tokens"] = cached.total_tokens
        if cost is not None:
            entry["cost"] = cost
        return entry

    def _stage_usage(self, stage: str) -> dict[str, Any]:
        cost = None if self.cost is None else self.cost.get(stage, 0.0)
        return self._usage_dict(self.usage[stage], self.cached.get(stage, Usage()), cost)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form (only str/int/float/bool/None/list/dict inside)."""
        return {
            "problem_id": self.problem_id,
            "method": self.method,
            "program": self.program,
            "selection": self.selection.to_dict(),
            "candidates": [c.to_dict() for c in self.candidates],
            "inputs": list(self.inputs),
            "inputs_dropped": self.inputs_dropped,
            "inputs_discarded": list(self.inputs_discarded),
            "inputs_completion": self.inputs_completion,
            "clusters": [c.to_dict() for c in self.clusters],
            "comparisons": [c.to_dict() for c in self.comparisons],
            "generated_tests": [t.to_dict() for t in self.generated_tests],
            "usage": {stage: self._stage_usage(stage) for stage in self.usage},
            "total_usage": self._usage_dict(
                self.total_usage, sum(self.cached.values(), Usage()), self.total_cost
            ),
            "stopped": self.stopped,
            "timings": dict(self.timings),
            "config": dict(self.config),
            "models": dict(self.models),
            "input_sources": list(self.input_sources),
            "inputs_separating": dict(self.inputs_separating),
            "inputs_retry_completion": self.inputs_retry_completion,
            "context_overflows": list(self.context_overflows),
            "comparisons_planned": self.comparisons_planned,
            "voters_excluded": list(self.voters_excluded),
            "uses_hidden_tests": self.uses_hidden_tests,
        }
