"""The benchmark's reference judge gives the right verdicts (it is the ground truth).

Each test starts real interpreters (about 50 ms each), so the programs are tiny and the
limits small.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# benchmarks/ is not an installed package: make the repository root importable.
REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.execution.reference import ReferenceJudge  # noqa: E402
from codestar.execution.types import Limits, Program, Verdict  # noqa: E402
from codestar.problems.model import ProblemKind, TestCase  # noqa: E402

LIMITS = Limits(timeout_s=2, memory_mb=512, output_bytes=1_000_000)


@pytest.fixture(scope="module")
def judge() -> ReferenceJudge:
    return ReferenceJudge(workers=2)


def verdict(
    judge: ReferenceJudge, program: Program, test: TestCase, limits: Limits = LIMITS
) -> Verdict:
    return judge.run_test(program, test, limits).verdict


@pytest.mark.parametrize(
    "source",
    [
        "a, b = map(int, input().split())\nprint(a + b)\n",
        "import sys\na, b = map(int, sys.stdin.buffer.read().split())\nprint(a + b)\n",
        "a, b = map(int, open(0).read().split())\nprint(a + b)\n",
        "import sys\nfor line in sys.stdin:\n    print(sum(map(int, line.split())))\n",
        "def main():\n    print(sum(map(int, input().split())))\n\n"
        "if __name__ == '__main__':\n    main()\n",
        "import threading\n\ndef main():\n    print(sum(map(int, input().split())))\n\n"
        "threading.Thread(target=main).start()\n",
    ],
    ids=["input", "buffer", "open0", "iterate", "main-guard", "thread"],
)
def test_stdin_idioms_pass(judge: ReferenceJudge, source: str) -> None:
    assert verdict(judge, Program(source), TestCase("2 3\n", "5\n")) is Verdict.PASSED


def test_wrong_answer_and_the_decimal_rule(judge: ReferenceJudge) -> None:
    program = Program("print(float(input()))\n")
    assert verdict(judge, program, TestCase("3\n", "3")) is Verdict.PASSED  # 3.0 == 3
    assert verdict(judge, program, TestCase("3\n", "4")) is Verdict.WRONG_ANSWER
    assert verdict(judge, program, TestCase("3\n", None)) is Verdict.COMPLETED


def test_functional_programs_use_the_prelude(judge: ReferenceJudge) -> None:
    method = Program(
        "class Solution:\n    def pair(self, xs: List[int], k: int) -> List[int]:\n"
        "        return (k, Counter(xs)[k])\n",
        ProblemKind.FUNCTIONAL,
        "pair",
    )
    assert verdict(judge, method, TestCase("[1, 2, 2]\n2", "[2, 2]")) is Verdict.PASSED
    assert verdict(judge, method, TestCase("[1, 2, 2]\n1", "[1, 2]")) is Verdict.WRONG_ANSWER
    function = Program("def double(x):\n    return x * 2\n", ProblemKind.FUNCTIONAL, "double")
    assert verdict(judge, function, TestCase("21", "42")) is Verdict.PASSED


def test_crashes_are_runtime_errors_with_the_last_line(judge: ReferenceJudge) -> None:
    outcome = judge.run_test(Program("raise KeyError('boom')\n"), TestCase("", "1"), LIMITS)
    assert outcome.verdict is Verdict.RUNTIME_ERROR
    assert outcome.error == "KeyError: 'boom'"
    exiting = Program("import sys\nprint(1)\nsys.exit(3)\n")
    assert verdict(judge, exiting, TestCase("", "1")) is Verdict.RUNTIME_ERROR


def test_limits_give_their_verdicts(judge: ReferenceJudge) -> None:
    fast = Limits(timeout_s=0.5, memory_mb=512, output_bytes=1_000_000)
    outcome = judge.run_test(Program("while True:\n    pass\n"), TestCase("", "1"), fast)
    assert outcome.verdict is Verdict.TIMEOUT
    assert outcome.wall_s < 2
    printing = Program("while True:\n    print('x' * 1000)\n")
    assert verdict(judge, printing, TestCase("", "1")) is Verdict.OUTPUT_LIMIT
    allocating = Program("block = bytes(2 * 2**30)\nprint(1)\n")
    assert verdict(judge, allocating, TestCase("", "1")) is Verdict.MEMORY_LIMIT


def test_compute_time_is_measured_inside_the_program(judge: ReferenceJudge) -> None:
    outcome = judge.run_test(
        Program("import time\ntime.sleep(0.2)\nprint(1)\n"), TestCase("", "1"), LIMITS
    )
    assert outcome.verdict is Verdict.PASSED
    assert outcome.compute_s is not None
    assert 0.2 <= outcome.compute_s < outcome.wall_s


def test_run_many_keeps_job_order(judge: ReferenceJudge) -> None:
    echo = Program("print(input())\n")
    jobs = [(echo, [TestCase(f"{i}\n", f"{i}") for i in range(3)]), (echo, [TestCase("9\n", "8")])]
    results = judge.run_many(jobs, LIMITS)
    assert [[o.verdict for o in row] for row in results] == [
        [Verdict.PASSED] * 3,
        [Verdict.WRONG_ANSWER],
    ]
    assert results[0][2].output.strip() == "2"
