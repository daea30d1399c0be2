"""Workload (b), hostile part: programs that no harness should let run to completion.

They loop forever (also while catching every exception, which defeats an in-process
alarm), raise, recurse without end, print 300 MB, allocate 3 GB (lazily, so a harness
without a memory limit really lets it finish), or exit with a non-zero status after
printing the right answer. Each gets small inputs whose expected output is what a
correct echo would print, so a harness that lets one finish may report a pass.

This module only describes programs; it runs nothing.
"""

from __future__ import annotations

import random

from benchmarks.execution.heavy import HeavyProgram
from codestar.problems.model import ProblemKind

_ECHO_SIZES = (5, 7)


def _echo_input(rng: random.Random, n: int) -> str:
    return f"{n}\n"


def _echo_oracle(text: str) -> str:
    return text.strip()


def _functional_echo_input(rng: random.Random, n: int) -> str:
    return str(n)


def _hostile(name: str, source: str, kind: ProblemKind = ProblemKind.STDIN) -> HeavyProgram:
    if kind is ProblemKind.FUNCTIONAL:
        return HeavyProgram(
            name, source, _functional_echo_input, _echo_oracle, kind, "echo", _ECHO_SIZES
        )
    return HeavyProgram(name, source, _echo_input, _echo_oracle, sizes=_ECHO_SIZES)


HOSTILE_PROGRAMS: tuple[HeavyProgram, ...] = (
    _hostile("loop-forever", "n = input()\nwhile True:\n    pass\n"),
    _hostile(
        "loop-catching-everything",
        "n = input()\nwhile True:\n    try:\n        while True:\n            pass\n"
        "    except BaseException:\n        pass\n",
    ),
    _hostile(
        "functional-loop-forever",
        "class Solution:\n    def echo(self, n):\n        while True:\n            n += 1\n",
        ProblemKind.FUNCTIONAL,
    ),
    _hostile("raise", "n = int(input())\nraise ValueError(f'cannot handle {n}')\n"),
    _hostile(
        "functional-raise",
        "class Solution:\n    def echo(self, n):\n        return [1, 2][n]\n",
        ProblemKind.FUNCTIONAL,
    ),
    _hostile(
        "deep-recursion",
        "import sys\nsys.setrecursionlimit(10**5)\n\ndef down(k):\n    return down(k + 1) + 1\n\n"
        "n = int(input())\nprint(down(n))\n",
    ),
    _hostile(
        "print-300mb",
        "n = input()\nline = 'x' * 99\nfor _ in range(3_000_000):\n    print(line)\n",
    ),
    _hostile("allocate-3gb", "n = input()\nblock = bytes(3 * 2**30)\nprint(n)\n"),
    _hostile("exit-nonzero", "import sys\nprint(input())\nsys.exit(3)\n"),
)
