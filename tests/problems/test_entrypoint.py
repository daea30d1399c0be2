"""Finding the function a functional problem calls, in starter code and in programs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codestar.problems.entrypoint import EntryPoint, find_entry_point

LEETCODE_STARTER = (
    "class Solution:\n    def maximumOr(self, nums: List[int], k: int) -> int:\n        "
)


def test_leetcode_starter_with_empty_body() -> None:
    assert find_entry_point(LEETCODE_STARTER) == EntryPoint("maximumOr", "Solution", 2)


def test_name_from_metadata_is_checked_against_the_code() -> None:
    assert find_entry_point(LEETCODE_STARTER, "maximumOr") == EntryPoint("maximumOr", "Solution", 2)
    assert find_entry_point(LEETCODE_STARTER, "minimumOr") is None


def test_several_empty_bodies_and_a_commented_header() -> None:
    code = (
        "# Definition for a binary tree node.\n"
        "# class TreeNode:\n"
        "#     def __init__(self, val=0):\n"
        "class Solution:\n"
        "    def __init__(self):\n"
        "\n"
        "    def solve(self, root: Optional[TreeNode], k: int = 3) -> int:\n"
    )
    assert find_entry_point(code) == EntryPoint("solve", "Solution", 2)


def test_helper_function_defined_first_does_not_win() -> None:
    code = (
        "def gcd(a, b):\n    return a if b == 0 else gcd(b, a % b)\n\n"
        "def lcm_of(nums):\n    out = 1\n    for n in nums:\n"
        "        out = out * n // gcd(out, n)\n    return out\n"
    )
    assert find_entry_point(code) == EntryPoint("lcm_of", None, 1)


def test_stub_helper_first_then_entry_last_humaneval_style() -> None:
    code = (
        "def is_palindrome(s: str) -> bool:\n    return s == s[::-1]\n\n"
        'def make_palindrome(string: str) -> str:\n    """Doc."""\n'
    )
    assert find_entry_point(code) == EntryPoint("make_palindrome", None, 1)


def test_solution_with_helpers_decorators_nested_class_and_private_methods() -> None:
    code = """
import functools

def helper(x):
    return x

class Solution:
    class Node:
        def value(self, a, b, c):
            return a

    def __init__(self):
        self.memo = {}

    def _private(self, y):
        return y

    def countWays(self, n, mod=10**9 + 7):
        return self.dfs(n) % mod

    @functools.lru_cache(None)
    def dfs(self, n):
        return 1 if n < 2 else self.dfs(n - 1) + self.dfs(n - 2)

    @staticmethod
    def pure(a, b):
        return a + b
"""
    assert find_entry_point(code) == EntryPoint("countWays", "Solution", 2)
    assert find_entry_point(code, "pure") == EntryPoint("pure", "Solution", 2)
    assert find_entry_point(code, "dfs") == EntryPoint("dfs", "Solution", 1)
    assert find_entry_point(code, "helper") == EntryPoint("helper", None, 1)
    assert find_entry_point(code, "value") is None  # nested classes are not searched


def test_named_method_of_another_class_as_a_last_resort() -> None:
    code = "class Codec:\n    def encode(self, s):\n        return s\n"
    assert find_entry_point(code, "encode") == EntryPoint("encode", "Codec", 1)
    assert find_entry_point(code) is None


def test_redefinition_uses_the_last_one() -> None:
    code = "def f(a):\n    return 1\n\ndef f(a, b):\n    return 2\n"
    assert find_entry_point(code, "f") == EntryPoint("f", None, 2)


def test_varargs_and_keyword_only_are_not_counted() -> None:
    code = "def f(a, /, b, *rest, c=1, **options):\n    pass\n"
    assert find_entry_point(code) == EntryPoint("f", None, 2)


@pytest.mark.parametrize("code", ["", "x = 1\n", "class Solution:\n    pass\n", "def (:\n"])
def test_nothing_to_find(code: str) -> None:
    assert find_entry_point(code) is None


def test_every_leetcode_starter_in_release_v1(shared_data: Path) -> None:
    found = 0
    with (shared_data / "lcb_release_v1_public.jsonl").open() as lines:
        for line in lines:
            record = json.loads(line)
            name = json.loads(record["metadata"]).get("func_name")
            if not name:
                continue
            entry = find_entry_point(record["starter_code"])
            assert entry is not None, record["question_id"]
            assert entry.name == name, record["question_id"]
            assert entry.class_name == "Solution"
            first_test = json.loads(record["public_test_cases"])[0]["input"]
            assert entry.arity == len(first_test.split("\n")), record["question_id"]
            found += 1
    assert found == 181


@given(st.text(max_size=200))
def test_never_raises_on_garbage(code: str) -> None:
    find_entry_point(code)
    find_entry_point(code, "f")


@pytest.mark.parametrize("code", ["-" * 100_000 + "1", "[" * 300])
def test_pathologically_nested_code_is_unreadable_not_a_crash(code: str) -> None:
    assert find_entry_point(code) is None
