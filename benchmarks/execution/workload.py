"""The benchmark workloads, built at run time (nothing from the shared data is copied).

(a) *overhead-bound*, the shape of S*'s inner loop: real LLM-written programs (one
gpt-4o-mini solution per LiveCodeBench release_v1 problem, from
``lcb_v1_gpt-4o-mini_solutions.jsonl``), half AtCoder stdin programs and half LeetCode
functional ones, each on its problem's public tests from ``lcb_release_v1_public.jsonl``.
Problems have 1 to 6 public tests; each program's list is the public tests cycled to
``tests_per_program`` entries (test ``i`` is public test ``i mod p``), so every test is a
real input with a real expected output and the per-test cost dominates. Programs that
fail their public tests are kept (a debugging loop sees those too); the few solutions in
``SLOW_SOLUTIONS`` that run for more than 50 ms on a public test are not chosen.

(b) *heavy*: in two groups, the compute-bound programs of `benchmarks.execution.heavy`
(n up to 2e5) and the hostile ones of `benchmarks.execution.hostile` (time-outs,
crashes, output and memory bombs), with seeded inputs and oracle outputs.

It does not run anything.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from itertools import cycle, islice
from pathlib import Path
from typing import Any

from benchmarks.execution.heavy import HEAVY_PROGRAMS, HeavyProgram
from benchmarks.execution.hostile import HOSTILE_PROGRAMS
from codestar.execution.types import Limits, Program
from codestar.problems.model import ProblemKind, TestCase

PROBLEMS_FILE = "lcb_release_v1_public.jsonl"
SOLUTIONS_FILE = "lcb_v1_gpt-4o-mini_solutions.jsonl"

#: Solutions left out of (a), which is meant to be overhead-bound: each runs over 50 ms
#: on some public test (eight of them time out at 6 s), as found by running every
#: candidate once under the reference judge. Cycled to 30 tests, a few of them would
#: dominate the run; long-running programs are measured in (b).
SLOW_SOLUTIONS = frozenset(
    {"3151", "3229", "3299", "abc301_e", "abc301_f", "abc302_c", "abc310_d", "abc311_e",
     "abc318_d", "abc321_e", "abc322_d", "abc324_d", "abc328_e", "abc338_c", "abc338_d",
     "abc342_d", "abc342_e"}
)  # fmt: skip

#: LiveCodeBench's alarms take whole seconds, so every workload uses an integer limit.
OVERHEAD_TIMEOUT_S = 6
HEAVY_TIMEOUT_S = 4


@dataclass(frozen=True, slots=True)
class BenchProgram:
    """One program of a workload with the tests it runs on."""

    name: str
    program: Program
    tests: tuple[TestCase, ...]


@dataclass(frozen=True, slots=True)
class Workload:
    """A named set of programs that every harness runs under the same limits."""

    name: str
    description: str
    programs: tuple[BenchProgram, ...]
    limits: Limits

    @property
    def test_count(self) -> int:
        return sum(len(p.tests) for p in self.programs)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _public_tests(record: dict[str, Any]) -> list[TestCase]:
    cases = json.loads(record["public_test_cases"])
    return [TestCase(input=case["input"], expected=case["output"]) for case in cases]


def build_overhead_workload(
    data_dir: Path, *, programs: int = 80, tests_per_program: int = 30, seed: int = 0
) -> Workload:
    """Workload (a): ``programs`` real solutions, half stdin and half functional.

    Raises FileNotFoundError when the shared data files are absent.
    """
    problems = {r["question_id"]: r for r in _read_jsonl(data_dir / PROBLEMS_FILE)}
    solutions = _read_jsonl(data_dir / SOLUTIONS_FILE)
    by_platform: dict[str, list[tuple[dict[str, Any], str]]] = {"atcoder": [], "leetcode": []}
    for solution in sorted(solutions, key=lambda s: str(s["task_id"])):
        record = problems.get(solution["task_id"])
        if record is not None and record["platform"] in by_platform:
            by_platform[record["platform"]].append((record, solution["solution"]))
    rng = random.Random(seed)
    chosen: list[tuple[dict[str, Any], str]] = []
    for platform, count in (("atcoder", programs // 2), ("leetcode", programs - programs // 2)):
        pool = by_platform[platform]
        rng.shuffle(pool)
        # Skipping after the shuffle keeps every other choice where it was.
        kept = [pair for pair in pool if pair[0]["question_id"] not in SLOW_SOLUTIONS]
        chosen.extend(kept[:count])
    bench: list[BenchProgram] = []
    for record, source in chosen:
        metadata = json.loads(record.get("metadata") or "{}")
        entry_point = metadata.get("func_name")
        kind = ProblemKind.FUNCTIONAL if entry_point else ProblemKind.STDIN
        tests = tuple(islice(cycle(_public_tests(record)), tests_per_program))
        bench.append(
            BenchProgram(
                name=f"{record['platform']}/{record['question_id']}",
                program=Program(source=source, kind=kind, entry_point=entry_point),
                tests=tests,
            )
        )
    return Workload(
        name="a",
        description=(
            f"overhead-bound: {len(bench)} gpt-4o-mini programs x {tests_per_program} "
            "cycled public tests"
        ),
        programs=tuple(bench),
        limits=Limits(timeout_s=OVERHEAD_TIMEOUT_S),
    )


def _heavy_bench(heavy: HeavyProgram, seed: int) -> BenchProgram:
    # One generator per program, so adding a program does not change the others' inputs.
    rng = random.Random(f"{seed}:{heavy.name}")
    tests = []
    for n in heavy.sizes:
        text = heavy.make_input(rng, n)
        tests.append(TestCase(input=text, expected=heavy.oracle(text)))
    return BenchProgram(
        name=heavy.name,
        program=Program(source=heavy.source, kind=heavy.kind, entry_point=heavy.entry_point),
        tests=tuple(tests),
    )


def build_heavy_workloads(*, seed: int = 0) -> tuple[Workload, Workload]:
    """Workload (b): the compute-bound group, then the hostile group."""
    limits = Limits(timeout_s=HEAVY_TIMEOUT_S)
    compute = Workload(
        name="b-compute",
        description="heavy: n up to 2e5 (sorting, prefix sums, BFS, strings, big ints, ...)",
        programs=tuple(_heavy_bench(h, seed) for h in HEAVY_PROGRAMS),
        limits=limits,
    )
    hostile = Workload(
        name="b-hostile",
        description="hostile: time-outs, crashes, 300 MB of output, 3 GB allocation",
        programs=tuple(_heavy_bench(h, seed) for h in HOSTILE_PROGRAMS),
        limits=limits,
    )
    return compute, hostile


def build_workloads(which: str, data_dir: Path, *, seed: int = 0) -> list[Workload]:
    """The workloads selected by ``which``: ``a``, ``b`` or ``all``."""
    if which not in ("a", "b", "all"):
        raise ValueError(f"unknown workload {which!r}: use a, b or all")
    selected: list[Workload] = []
    if which in ("a", "all"):
        selected.append(build_overhead_workload(data_dir, seed=seed))
    if which in ("b", "all"):
        selected.extend(build_heavy_workloads(seed=seed))
    return selected
