"""The functional-code sanitizer and the joining of helper blocks (no model, no sandbox)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from codestar.pipeline.extraction import extract_code, parse_python
from codestar.pipeline.sanitizer import sanitize
from codestar.problems.model import ProblemKind

SOLUTION = "class Solution:\n    def f(self, x: int) -> int:\n        return x * FACTOR\n"


def test_the_models_own_tests_are_dropped_and_listed() -> None:
    code = (
        "import sys\n"
        "sys.setrecursionlimit(10000)\n"
        "FACTOR = 2\n"
        "UNUSED = 5\n"
        f"{SOLUTION}"
        "assert Solution().f(2) == 5\n"
        "print(Solution().f(3))\n"
        "def check():\n    assert Solution().f(1) == 2\n"
        "check()\n"
        "n = int(input())\n"
        "if __name__ == '__main__':\n    print(Solution().f(n))\n"
    )
    cleaned = sanitize(code)
    assert cleaned.code == (
        "import sys\nsys.setrecursionlimit(10000)\nFACTOR = 2\n"
        + SOLUTION
        + "def check():\n    assert Solution().f(1) == 2"
    )
    assert cleaned.dropped == (
        "UNUSED = 5",
        "assert Solution().f(2) == 5",
        "print(Solution().f(3))",
        "check()",
        "n = int(input())",
        "if __name__ == '__main__':",
    )


def test_assignments_used_through_other_assignments_are_kept() -> None:
    code = "BASE = 10\nMOD = BASE ** 9 + 7\ndef f(x):\n    return x % MOD\nprint(f(3))\n"
    assert sanitize(code).code == "BASE = 10\nMOD = BASE ** 9 + 7\ndef f(x):\n    return x % MOD"


def test_clean_code_and_code_with_nothing_left_are_unchanged() -> None:
    assert sanitize(SOLUTION).dropped == ()
    assert sanitize("print(1)\nprint(2)\n").code == "print(1)\nprint(2)\n"
    assert sanitize("def f(:\n").code == "def f(:\n"


def test_try_imports_are_kept() -> None:
    code = (
        "try:\n    from math import gcd\nexcept ImportError:\n    pass\n"
        "def f(a, b):\n    return gcd(a, b)\n"
    )
    assert sanitize(code).dropped == ()


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "assert f(1) == 2",
                "print(f(2))",
                "x = f(3)",
                "K = 3",
                "import math",
                "for i in range(3):\n    print(i)",
                "def g(y):\n    return y + K",
                "f(4)",
            ]
        ),
        max_size=6,
    )
)
def test_sanitized_code_parses_and_keeps_every_definition(extra: list[str]) -> None:
    code = "\n".join(["def f(x):\n    return g(x) if x else 0", *extra])
    cleaned = sanitize(code)
    tree = parse_python(cleaned.code)
    assert tree is not None
    names = {getattr(node, "name", None) for node in tree.body}
    assert "f" in names and ("g" in names or "def g" not in code)
    assert not any(
        line.startswith(("assert", "print", "for ")) for line in cleaned.code.split("\n")
    )


def test_a_helper_in_another_block_is_joined_with_its_import() -> None:
    answer = (
        "First a helper:\n```python\nimport math\n\ndef lcm(a, b):\n"
        "    return a * b // math.gcd(a, b)\n```\n"
        "Then the solution:\n```python\ndef solve(a, b):\n    return lcm(a, b) + 1\n```\n"
        "And a test:\n```python\nprint(solve(2, 3))\n```\n"
    )
    found = extract_code(answer, kind=ProblemKind.FUNCTIONAL, entry_point="solve")
    assert found is not None and "joined 2 definition(s)" in found.reason
    namespace: dict[str, object] = {}
    exec(compile(found.code, "<joined>", "exec"), namespace)
    assert namespace["solve"](4, 6) == 13  # type: ignore[operator]
    assert "print(solve" not in found.code


def test_a_block_that_needs_nothing_is_not_joined() -> None:
    answer = "```python\ndef g():\n    return 1\n```\n```python\ndef solve():\n    return 2\n```"
    found = extract_code(answer, kind=ProblemKind.FUNCTIONAL, entry_point="solve")
    assert found is not None and found.code == "def solve():\n    return 2"
