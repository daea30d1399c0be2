"""Correct programs in every stdin idiom pass, as under `python3 prog.py < input`."""

from __future__ import annotations

import textwrap

import pytest

from codestar.execution.engine import Engine
from codestar.execution.types import Program, Verdict
from codestar.problems.model import ProblemKind, TestCase

INPUT = "3\n1 2 3\n"
EXPECTED = "6"

IDIOMS = {
    "input": """
        n = int(input())
        print(sum(map(int, input().split())))
    """,
    "stdin-read": """
        import sys
        data = sys.stdin.read().split()
        print(sum(map(int, data[1:])))
    """,
    "stdin-readline": """
        import sys
        input = sys.stdin.readline
        n = int(input())
        print(sum(map(int, input().split())))
    """,
    "stdin-buffer": """
        import sys
        data = sys.stdin.buffer.read().split()
        print(sum(map(int, data[1:])))
    """,
    "buffer-readline": """
        import sys
        n = int(sys.stdin.buffer.readline())
        print(sum(map(int, sys.stdin.buffer.readline().split())))
    """,
    "open-0": """
        data = open(0).read().split()
        print(sum(map(int, data[1:])))
    """,
    "iterate-stdin": """
        import sys
        lines = [line for line in sys.stdin]
        print(sum(map(int, lines[1].split())))
    """,
    "fast-io-fstat": """
        import io, os
        input = io.BytesIO(os.read(0, os.fstat(0).st_size)).readline
        n = int(input())
        print(sum(map(int, input().split())))
    """,
    "main-guard": """
        def solve():
            n = int(input())
            return sum(map(int, input().split()))

        if __name__ == "__main__":
            print(solve())
    """,
    "global-state": """
        total = 0
        def add(values):
            global total
            for v in values:
                total += v
        n = int(input())
        add(map(int, input().split()))
        print(total)
    """,
    "threading-big-stack": """
        import sys, threading
        sys.setrecursionlimit(1 << 20)
        threading.stack_size(1 << 26)
        def depth(k):
            return 0 if k == 0 else 1 + depth(k - 1)
        def main():
            n = int(input())
            values = list(map(int, input().split()))
            assert depth(100000) == 100000
            print(sum(values))
        thread = threading.Thread(target=main)
        thread.start()
        thread.join()
    """,
    "thread-not-joined": """
        import threading
        def main():
            n = int(input())
            print(sum(map(int, input().split())))
        threading.Thread(target=main).start()
    """,
    "stdout-write-and-exit": """
        import sys
        n = int(input())
        sys.stdout.write(str(sum(map(int, input().split()))) + "\\n")
        sys.exit(0)
    """,
    "prelude-names": """
        n = int(input())
        counts = Counter(map(int, input().split()))
        heap: List[int] = list(counts.elements())
        heapify(heap)
        print(reduce(lambda a, b: a + b, heap) + gcd(0, 0) + pow(2, 3, 2))
    """,
    "prelude-names-in-functions-and-shadowed": """
        def total(values: List[int]) -> int:
            return reduce(add, values)
        deque = list  # a program's own name shadows the prelude's
        n = int(input())
        values = deque(map(int, input().split()))
        assert "Counter" not in globals() and "deque" in globals()
        print(total(values))
    """,
    "builtins-patched-by-the-program": """
        import builtins
        builtins.input = __import__("sys").stdin.readline
        n = int(input())
        print(sum(map(int, input().split())))
    """,
    "os-exit-after-flush": """
        import os, sys
        n = int(input())
        print(sum(map(int, input().split())))
        sys.stdout.flush()
        os._exit(0)
    """,
    "exit-builtin": """
        n = int(input())
        print(sum(map(int, input().split())))
        exit()
    """,
}


@pytest.mark.parametrize("name", sorted(IDIOMS))
def test_stdin_idiom_passes(engine: Engine, name: str) -> None:
    program = Program(textwrap.dedent(IDIOMS[name]))
    tests = [TestCase(INPUT, EXPECTED), TestCase("2\n5 5\n", "10"), TestCase(INPUT, EXPECTED)]
    result = engine.run(program, tests)
    assert [o.verdict for o in result.outcomes] == [Verdict.PASSED] * 3, result


def test_each_test_gets_a_fresh_module(engine: Engine) -> None:
    source = "import sys\nruns = globals().get('runs', 0) + 1\nprint(runs)\n"
    result = engine.run(Program(source), [TestCase("", "1")] * 5)
    assert result.passed


def test_wrong_answer_and_numbers_compare_as_decimals(engine: Engine) -> None:
    result = engine.run(
        Program("print('1.0 2')\nprint('  x  ')"),
        [TestCase("", "1 2.00\nx\n"), TestCase("", "1 2\ny")],
    )
    assert [o.verdict for o in result.outcomes] == [Verdict.PASSED, Verdict.WRONG_ANSWER]


def test_completed_without_expected_output_and_digest_groups_equal_outputs(
    engine: Engine,
) -> None:
    a = engine.run(Program("print(int(input()) % 3)"), [TestCase("4\n"), TestCase("5\n")])
    b = engine.run(
        Program("x = int(input())\nprint(x - 3 * (x // 3), '')"), [TestCase("4\n"), TestCase("5\n")]
    )
    assert {o.verdict for o in a.outcomes} == {Verdict.COMPLETED}
    assert a.output_signature() == b.output_signature()
    assert a.outcomes[0].output == "1\n"


def test_syntax_error_fails_every_test_at_once(engine: Engine) -> None:
    result = engine.run(Program("def f(:\n"), [TestCase("", "1")] * 3)
    assert all(o.verdict is Verdict.RUNTIME_ERROR for o in result.outcomes)
    assert "SyntaxError" in (result.outcomes[0].error or "")


def test_stop_on_failure_skips_the_rest(engine: Engine) -> None:
    result = engine.run(
        Program("print(input())"),
        [TestCase("a\n", "a"), TestCase("b\n", "x"), TestCase("c\n", "c")],
        stop_on_failure=True,
    )
    verdicts = [o.verdict for o in result.outcomes]
    assert verdicts == [Verdict.PASSED, Verdict.WRONG_ANSWER, Verdict.NOT_RUN]


def test_tests_after_a_crash_still_run(engine: Engine) -> None:
    source = "n = int(input())\nassert n != 2, 'two'\nprint(n)"
    tests = [TestCase(f"{i}\n", str(i)) for i in range(1, 5)]
    result = engine.run(Program(source), tests)
    verdicts = [o.verdict for o in result.outcomes]
    assert verdicts == [Verdict.PASSED, Verdict.RUNTIME_ERROR, Verdict.PASSED, Verdict.PASSED]
    assert result.outcomes[1].error == "AssertionError: two"


FUNCTIONAL = """
from typing import List

def helper(x):
    return x * 2

class Node:
    pass

class Solution:
    def __init__(self):
        self.calls = 0

    @staticmethod
    def unrelated():
        return 0

    def twoSum(self, nums: List[int], target: int) -> List[int]:
        self.calls += 1
        assert self.calls == 1, "a fresh Solution() per test"
        seen = {}
        for i, v in enumerate(nums):
            if target - v in seen:
                return (seen[target - v], i)
            seen[v] = i
        return []
"""


def test_functional_solution_class(engine: Engine) -> None:
    program = Program(FUNCTIONAL, ProblemKind.FUNCTIONAL, "twoSum")
    tests = [
        TestCase("[2, 7, 11, 15]\n9", "[0, 1]"),
        TestCase("[3, 2, 4]\n6", "[1, 2]"),
        TestCase("[3, 3]\n6", "[0, 0]"),
    ]
    result = engine.run(program, tests)
    verdicts = [o.verdict for o in result.outcomes]
    assert verdicts == [Verdict.PASSED, Verdict.PASSED, Verdict.WRONG_ANSWER]
    assert result.outcomes[0].output == "[0, 1]"


def test_functional_plain_function_and_missing_entry(engine: Engine) -> None:
    good = Program("def add(a, b):\n    return a + b\n", ProblemKind.FUNCTIONAL, "add")
    assert engine.run(good, [TestCase("1\n2", "3"), TestCase('"a"\n"b"', '"ab"')]).passed
    missing = Program("def other():\n    pass\n", ProblemKind.FUNCTIONAL, "add")
    result = engine.run(missing, [TestCase("1\n2", "3")] * 2)
    assert all(o.verdict is Verdict.RUNTIME_ERROR for o in result.outcomes)
    assert "entry point 'add'" in (result.outcomes[0].error or "")


def test_functional_method_written_as_a_top_level_function(engine: Engine) -> None:
    source = "def add(self, a, b):\n    return a + b\n"
    result = engine.run(Program(source, ProblemKind.FUNCTIONAL, "add"), [TestCase("1\n2", "3")])
    assert result.passed


def test_functional_prints_do_not_count_and_exceptions_are_verdicts(engine: Engine) -> None:
    source = "def f(x):\n    print('noise')\n    return 10 // x\n"
    program = Program(source, ProblemKind.FUNCTIONAL, "f")
    result = engine.run(program, [TestCase("2", "5"), TestCase("0", "0"), TestCase("5", "2")])
    verdicts = [o.verdict for o in result.outcomes]
    assert verdicts == [Verdict.PASSED, Verdict.RUNTIME_ERROR, Verdict.PASSED]
    assert "ZeroDivisionError" in (result.outcomes[1].error or "")


def test_matrix_shape(engine: Engine) -> None:
    programs = [Program("print(int(input()) + 1)"), Program("print(int(input()) * 2)")]
    tests = [TestCase(f"{i}\n") for i in range(5)]
    rows = engine.run_matrix(programs, tests)
    assert [len(r.outcomes) for r in rows] == [5, 5]
    assert rows[0].outcomes[2].output == "3\n" and rows[1].outcomes[2].output == "4\n"
    assert rows[0].output_signature() != rows[1].output_signature()


async def _arun(engine: Engine) -> list[bool]:
    import asyncio

    programs = [Program(f"print({i})") for i in range(6)]
    results = await asyncio.gather(
        *(engine.arun(p, [TestCase("", str(i))]) for i, p in enumerate(programs))
    )
    return [r.passed for r in results]


def test_arun_from_asyncio(engine: Engine) -> None:
    import asyncio

    assert asyncio.run(_arun(engine)) == [True] * 6


def test_minimal_isolation_still_runs_programs() -> None:
    with Engine(workers=1, isolation="minimal") as minimal:
        assert minimal.isolation.mode == "minimal"
        assert "network-namespace" in minimal.isolation.inactive
        result = minimal.run(Program(IDIOMS_SOURCE), [TestCase(INPUT, EXPECTED)])
        assert result.passed


IDIOMS_SOURCE = textwrap.dedent(IDIOMS["stdin-readline"])


class DictCache:
    def __init__(self) -> None:
        self.data: dict[str, object] = {}
        self.hits = 0

    def get_execution(self, key: str) -> object | None:
        if key in self.data:
            self.hits += 1
        return self.data.get(key)

    def put_execution(self, key: str, payload: object) -> None:
        self.data[key] = payload


def test_cache_answers_repeated_jobs_without_running_them(tmp_path: object) -> None:
    from codestar.llm.store import RunStore

    source = "import os\nprint(os.getpid() + int(input()))"  # differs on every real run
    tests = [TestCase("1\n")]
    cache = DictCache()
    with Engine(workers=1, cache=cache) as cached:
        first = cached.run(Program(source), tests)
        again = cached.run(Program(source), tests)
        other = cached.run(Program(source), [TestCase("2\n")])
    assert first == again and cache.hits == 1
    assert other != first
    with RunStore(tmp_path) as store:  # type: ignore[arg-type]
        with Engine(workers=1, cache=store) as engine:
            stored = engine.run(Program(source), tests)
        with Engine(workers=1, cache=store) as engine:
            assert engine.run(Program(source), tests) == stored


def test_functional_large_results_and_their_output_limit(engine: Engine) -> None:
    from codestar.execution.types import Limits

    source = "def f(n):\n    return list(range(n))\n"
    program = Program(source, ProblemKind.FUNCTIONAL, "f")
    expected = "[" + ", ".join(map(str, range(100_000))) + "]"
    result = engine.run(program, [TestCase("100000", expected), TestCase("3", "[0, 1, 2]")])
    assert result.passed
    small = engine.run(program, [TestCase("5000")], limits=Limits(output_bytes=1000))
    assert small.outcomes[0].verdict is Verdict.OUTPUT_LIMIT


def test_a_program_that_kills_its_worker_is_a_runtime_error_not_a_crash() -> None:
    # Only possible where the worker and the program share a uid and pid namespace.
    with Engine(workers=1, isolation="minimal") as minimal:
        if "uid-separation" in minimal.isolation.active:
            pytest.skip("programs cannot signal the worker here")
        killer = Program("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n")
        result = minimal.run(killer, [TestCase("", "x"), TestCase("", "y")])
        assert [o.verdict for o in result.outcomes] == [Verdict.RUNTIME_ERROR] * 2
        assert "killed its sandbox worker" in (result.outcomes[0].error or "")
        assert minimal.run(Program("print(input())"), [TestCase("ok\n", "ok")]).passed
