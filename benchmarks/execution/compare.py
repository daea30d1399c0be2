"""Turn harness runs into the benchmark's figures and its list of verdict disagreements.

Every harness run is reduced to one `TestRecord` per (program, test): its verdict, or
``None`` for a test it did not run (LiveCodeBench and ``stop_on_failure`` stop at the
first failure). The reference judge's records are the ground truth, and its in-program
timings give each test's *compute time* (for a test it killed at the time limit, the time
it let it run).

Figures per harness, with W the number of parallel workers every harness was given:

* tests/s = tests run / wall time;
* per-test overhead = (wall time x W - compute time of the tests it ran) / tests run,
  the core time a harness spends per test beyond the program's own work;
* compute ratio = wall time / (compute time of the tests it ran / W): 1.0 is a harness
  that costs nothing beyond the programs on W perfectly busy cores.

A disagreement is a test a harness ran whose verdict differs from the reference's, or a
program whose overall pass/fail differs. This module computes; it does not run or print.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.execution.reference import ReferenceOutcome
from codestar.execution.types import Verdict


@dataclass(frozen=True, slots=True)
class TestRecord:
    """One harness's result on one test; ``verdict`` is None when it did not run it."""

    __test__ = False  # not a pytest class

    verdict: Verdict | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class HarnessRun:
    """What one harness did on one workload: wall time and a record per test."""

    harness: str
    wall_s: float
    records: tuple[tuple[TestRecord, ...], ...]
    startup_s: float = 0.0

    @property
    def tests_run(self) -> int:
        return sum(r.verdict is not None for row in self.records for r in row)


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A test (``test`` is None: the whole program) judged differently from the reference."""

    harness: str
    program: str
    test: int | None
    reference: str
    got: str
    reference_note: str
    got_note: str


@dataclass(frozen=True, slots=True)
class HarnessFigures:
    """The benchmark's numbers for one harness on one workload."""

    harness: str
    wall_s: float
    startup_s: float
    tests_run: int
    tests_per_s: float
    compute_s: float
    overhead_ms_per_test: float
    compute_ratio: float
    programs_passed: int
    disagreements: tuple[Disagreement, ...]


def reference_records(
    outcomes: list[tuple[ReferenceOutcome, ...]],
) -> tuple[tuple[TestRecord, ...], ...]:
    """The reference judge's outcomes as records (notes: the error or the output's head)."""
    return tuple(
        tuple(TestRecord(o.verdict, o.error or o.output[:80]) for o in row) for row in outcomes
    )


def compute_time(outcome: ReferenceOutcome) -> float:
    """A test's own compute time: measured in the program, else the time it was let run."""
    return outcome.compute_s if outcome.compute_s is not None else outcome.wall_s


def _program_passed(row: tuple[TestRecord, ...]) -> bool:
    return bool(row) and all(r.verdict is Verdict.PASSED for r in row)


def disagreements(
    run: HarnessRun, reference: HarnessRun, names: tuple[str, ...]
) -> tuple[Disagreement, ...]:
    """Tests (and whole programs) where ``run`` and the reference disagree."""
    found: list[Disagreement] = []
    for name, row, truth in zip(names, run.records, reference.records, strict=True):
        for index, (record, expected) in enumerate(zip(row, truth, strict=True)):
            if record.verdict is None or record.verdict is expected.verdict:
                continue
            found.append(
                Disagreement(
                    run.harness,
                    name,
                    index,
                    str(expected.verdict),
                    str(record.verdict),
                    expected.note,
                    record.note,
                )
            )
        if _program_passed(row) != _program_passed(truth):
            found.append(
                Disagreement(
                    run.harness,
                    name,
                    None,
                    "pass" if _program_passed(truth) else "fail",
                    "pass" if _program_passed(row) else "fail",
                    "",
                    "",
                )
            )
    return tuple(found)


def figures(
    run: HarnessRun,
    reference: HarnessRun,
    reference_outcomes: list[tuple[ReferenceOutcome, ...]],
    names: tuple[str, ...],
    workers: int,
) -> HarnessFigures:
    """The figures of ``run`` measured against the reference (see the module docstring)."""
    compute = sum(
        compute_time(outcome)
        for row, outcomes in zip(run.records, reference_outcomes, strict=True)
        for record, outcome in zip(row, outcomes, strict=True)
        if record.verdict is not None
    )
    tests = run.tests_run
    return HarnessFigures(
        harness=run.harness,
        wall_s=run.wall_s,
        startup_s=run.startup_s,
        tests_run=tests,
        tests_per_s=tests / run.wall_s if run.wall_s > 0 else 0.0,
        compute_s=compute,
        overhead_ms_per_test=1000 * (run.wall_s * workers - compute) / tests if tests else 0.0,
        compute_ratio=run.wall_s / (compute / workers) if compute > 0 else 0.0,
        programs_passed=sum(_program_passed(row) for row in run.records),
        disagreements=disagreements(run, reference, names) if run is not reference else (),
    )
