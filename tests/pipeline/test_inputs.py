"""Parsing model-written test inputs and tests: every accepted style, and no crash ever."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codestar.pipeline.inputs import (
    MAX_INPUT_CHARS,
    ParsedInputs,
    parse_generated_tests,
    parse_inputs,
    signature_parameters,
)
from codestar.problems.model import ProblemKind, TestCase

STDIN = ProblemKind.STDIN
FUNCTIONAL = ProblemKind.FUNCTIONAL


# -- stdin inputs ------------------------------------------------------------------------


def test_stdin_fenced_blocks_with_labels_and_prose() -> None:
    text = (
        "Here are 3 test inputs covering edge cases.\n\n"
        "Input 1:\n```\n3\n1 2 3\n```\n"
        "Input 2 (smallest):\n```text\n1\n5   \n```\n"
        "**Input 3:**\n```plaintext\n\n2\n-1 -1\n\n\n```\n"
    )
    parsed = parse_inputs(text, kind=STDIN)
    assert parsed == ParsedInputs(inputs=("3\n1 2 3\n", "1\n5   \n", "2\n-1 -1\n"))


def test_stdin_drops_empty_blocks_programs_and_the_unclosed_last_block() -> None:
    text = (
        "```\n4\n```\n"
        "```\n\n```\n"
        "```python\nimport random\nprint(random.randint(1, 9))\n```\n"
        "```\n5\n6\n```\n"
        "```\n7\n8"  # cut off by the token limit
    )
    parsed = parse_inputs(text, kind=STDIN)
    assert parsed.inputs == ("4\n", "5\n6\n")
    assert parsed.dropped == 3


def test_stdin_output_blocks_are_not_inputs() -> None:
    text = (
        "Input:\n```\n2\n```\nOutput:\n```\n4\n```\n"
        "Input:\n```\n3\n```\nExpected output:\n```\n9\n```"
    )
    assert parse_inputs(text, kind=STDIN).inputs == ("2\n", "3\n")


def test_stdin_repeated_label_inside_a_block_is_removed() -> None:
    assert parse_inputs("```\nInput:\n5 6\n```", kind=STDIN).inputs == ("5 6\n",)


def test_stdin_without_fences_uses_headings() -> None:
    text = "Test inputs:\n\nInput 1:\n3\n1 2 3\n\nInput 2:\n1\n7\n---\nInput 3: 42\n"
    assert parse_inputs(text, kind=STDIN).inputs == ("3\n1 2 3\n", "1\n7\n", "42\n")


def test_stdin_duplicates_and_limit_are_counted() -> None:
    text = "".join(f"```\n{n}\n```\n" for n in (1, 2, 1, 3, 4, 2))
    parsed = parse_inputs(text, kind=STDIN, limit=3)
    assert parsed.inputs == ("1\n", "2\n", "3\n")
    assert (parsed.dropped, parsed.duplicates, parsed.surplus) == (0, 2, 1)


def test_oversized_input_is_dropped() -> None:
    huge = "9" * (MAX_INPUT_CHARS + 10)
    parsed = parse_inputs(f"```\n{huge}\n```\n```\n1\n```", kind=STDIN)
    assert parsed.inputs == ("1\n",)
    assert parsed.dropped == 1


# -- functional inputs -------------------------------------------------------------------


def test_functional_json_lines_blocks() -> None:
    text = '```\n[2, 7, 11, 15]\n9\n```\n\n```json\n["a", "b"]\n-1\n```'
    parsed = parse_inputs(text, kind=FUNCTIONAL, arity=2)
    assert parsed.inputs == ("[2, 7, 11, 15]\n9", '["a", "b"]\n-1')
    for item in parsed.inputs:  # LiveCodeBench's format: one JSON value per line
        assert [json.loads(line) for line in item.split("\n")]


def test_functional_python_literals_become_json() -> None:
    text = "```\n[True, False, None]\n'it''s'\n```\n```\n(1, 2)\n{'k': (3,)}\n```"
    parsed = parse_inputs(text, kind=FUNCTIONAL, arity=2)
    assert parsed.inputs == ('[true, false, null]\n"its"', '[1, 2]\n{"k": [3]}')


def test_functional_name_value_pairs_in_parameter_order() -> None:
    text = "```\ntarget = 9\nnums = [2, 7]\n```"
    by_name = parse_inputs(text, kind=FUNCTIONAL, parameters=("nums", "target"))
    assert by_name.inputs == ("[2, 7]\n9",)
    as_written = parse_inputs(text, kind=FUNCTIONAL, arity=2)
    assert as_written.inputs == ("9\n[2, 7]",)


def test_functional_leetcode_style_one_line_and_calls() -> None:
    text = (
        "**Input 1:** nums = [2,7,11,15], target = 9\n"
        "Input 2: twoSum([3, 3], 6)\n"
        "Input 3: Solution().twoSum(nums=[1], target=1)\n"
    )
    parsed = parse_inputs(text, kind=FUNCTIONAL, parameters=("nums", "target"))
    assert parsed.inputs == ("[2, 7, 11, 15]\n9", "[3, 3]\n6", "[1]\n1")


def test_functional_pretty_printed_multiline_value() -> None:
    text = "```\n[\n  [1, 2],\n  [3, 4]\n]\n5\n```"
    assert parse_inputs(text, kind=FUNCTIONAL, arity=2).inputs == ("[[1, 2], [3, 4]]\n5",)


def test_functional_wrong_arity_and_garbage_are_dropped() -> None:
    text = (
        "```\n[1, 2]\n```\n"  # one value, two needed
        "```\n[1, 2]\n3\n4\n```\n"  # three values
        "```\nnums is a list\n```\n"  # not a value
        "```\n{1: 2}\n3\n```\n"  # dict keys JSON cannot hold
        "```\nfloat('nan')\n3\n```\n"
        "```\n[1, 2]\n3\n```\n"
    )
    parsed = parse_inputs(text, kind=FUNCTIONAL, arity=2)
    assert parsed.inputs == ("[1, 2]\n3",)
    assert parsed.dropped == 5


def test_functional_unknown_keyword_is_dropped() -> None:
    parsed = parse_inputs("```\nfoo = 1\nbar = 2\n```", kind=FUNCTIONAL, parameters=("a", "b"))
    assert parsed.inputs == ()
    assert parsed.dropped == 1


def test_functional_single_argument_list_is_not_split() -> None:
    parsed = parse_inputs("```\n[1, 2, 3]\n```", kind=FUNCTIONAL, arity=1)
    assert parsed.inputs == ("[1, 2, 3]",)


def test_functional_paragraphs_without_fences() -> None:
    parsed = parse_inputs("[1, 2]\n3\n\n[4]\n5\n", kind=FUNCTIONAL, arity=2)
    assert parsed.inputs == ("[1, 2]\n3", "[4]\n5")


def test_signature_parameters_from_starter_code() -> None:
    starter = (
        "class Solution:\n    def maxSum(self, grid: List[List[int]], k: Dict[str, int] = None)"
        " -> int:\n        "
    )
    assert signature_parameters(starter, "maxSum") == ("grid", "k")
    assert signature_parameters("def f(a, /, b, *args, **kw):\n", "f") == ("a", "b")
    assert signature_parameters("def g(a):\n", "f") is None
    assert signature_parameters("def f(a, b\n", "f") is None


# -- generated tests (CodeT-style baseline) ----------------------------------------------


def test_stdin_generated_tests_from_labelled_block_pairs() -> None:
    text = (
        "Test 1\nInput:\n```\n3\n1 2 3\n```\nOutput:\n```\n6\n```\n\n"
        "**Input 2:**\n```\n1\n5\n```\n**Expected Output 2:**\n```\n5\n```\n"
        "Input:\n```\n2\n```\n"  # no output: dropped
    )
    parsed = parse_generated_tests(text, kind=STDIN)
    assert parsed.tests == (TestCase("3\n1 2 3\n", "6\n"), TestCase("1\n5\n", "5\n"))
    assert parsed.dropped == 1


def test_stdin_generated_tests_unlabelled_blocks_alternate() -> None:
    parsed = parse_generated_tests("```\n1\n```\n```\n2\n```\n```\n3\n```\n```\n4\n```", kind=STDIN)
    assert parsed.tests == (TestCase("1\n", "2\n"), TestCase("3\n", "4\n"))


def test_stdin_generated_tests_without_fences() -> None:
    text = "Input:\n3\n1 2 3\nOutput:\n6\n\nInput: 1\nOutput: 1\n"
    parsed = parse_generated_tests(text, kind=STDIN)
    assert parsed.tests == (TestCase("3\n1 2 3\n", "6\n"), TestCase("1\n", "1\n"))


def test_functional_generated_tests_from_asserts() -> None:
    text = (
        "```python\n"
        "assert Solution().twoSum([2, 7, 11, 15], 9) == [0, 1]\n"
        "assert twoSum(nums=[3, 3], target=6) == [0, 1]\n"
        "assert [1, 2] == Solution().twoSum([1, 5, 9], 14)\n"
        "assert Solution().twoSum([1], 1) is None\n"
        "assert Solution().twoSum([1]) == []\n"  # wrong arity
        "assert Solution().twoSum(x, 1) == []\n"  # not a literal
        "assert Solution().twoSum([2, 7, 11, 15], 9) == [0, 1]\n"  # duplicate
        "```"
    )
    parsed = parse_generated_tests(text, kind=FUNCTIONAL, parameters=("nums", "target"))
    assert parsed.tests == (
        TestCase("[2, 7, 11, 15]\n9", "[0, 1]"),
        TestCase("[3, 3]\n6", "[0, 1]"),
        TestCase("[1, 5, 9]\n14", "[1, 2]"),
        TestCase("[1]\n1", "null"),
    )
    assert (parsed.dropped, parsed.duplicates) == (2, 1)


def test_functional_generated_asserts_line_by_line_when_the_block_does_not_parse() -> None:
    text = "assert f(1) == 2\nThis one checks zero:\nassert f(0) == True\nassert f(3) == (4"
    parsed = parse_generated_tests(text, kind=FUNCTIONAL, arity=1)
    assert parsed.tests == (TestCase("1", "2"), TestCase("0", "true"))
    assert parsed.dropped == 1


def test_functional_generated_tests_as_block_pairs() -> None:
    text = "Input:\n```\n[1, 2]\n3\n```\nOutput:\n```\nTrue\n```"
    parsed = parse_generated_tests(text, kind=FUNCTIONAL, arity=2)
    assert parsed.tests == (TestCase("[1, 2]\n3", "true"),)


# -- nothing the model writes can crash parsing ------------------------------------------

_PIECES = st.sampled_from(
    [
        "```",
        "```python\n",
        "````\n",
        "\n",
        "Input:",
        "Output:",
        "**Input 1:**",
        "---\n",
        "assert f(1) == 2\n",
        "assert ",
        "[1, 2]\n",
        "nums = [1]\n",
        "f(",
        ")",
        "{",
        "'",
        '"',
        "\x00",
        "🙂漢字",
        "1e999999",
        "9" * 5000,
        "[" * 300,
        "True",
        "None",
        "=",
        "<think>",
        "</think>",
    ]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_never_raises_on_arbitrary_text(text: str) -> None:
    for kind in ProblemKind:
        for arity in (None, 1, 2):
            parse_inputs(text, kind=kind, arity=arity, limit=5)
            parse_generated_tests(text, kind=kind, arity=arity)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_PIECES, st.text(max_size=10)), max_size=40))
def test_never_raises_on_adversarial_output_and_results_are_well_formed(pieces: list[str]) -> None:
    text = "".join(pieces)
    for arity in (None, 1, 2):
        functional = parse_inputs(text, kind=FUNCTIONAL, arity=arity, parameters=None)
        for item in functional.inputs:
            values = [json.loads(line) for line in item.split("\n")]
            assert arity is None or len(values) == arity
        tests = parse_generated_tests(text, kind=FUNCTIONAL, arity=arity)
        for test in tests.tests:
            assert test.expected is not None
            json.loads(test.expected)
    stdin = parse_inputs(text, kind=STDIN)
    for item in stdin.inputs:
        assert item.endswith("\n") and item.strip() and "\x00" not in item


@pytest.mark.parametrize("kind", list(ProblemKind))
def test_non_string_and_huge_text(kind: ProblemKind) -> None:
    assert parse_inputs(None, kind=kind) == ParsedInputs(())  # type: ignore[arg-type]
    huge = "```\n" + "x" * 3_000_000 + "\n```"
    assert parse_inputs(huge, kind=kind).inputs == ()


def test_comment_only_blocks_are_dropped_but_grid_rows_are_data() -> None:
    text = (
        "```python\n# Sample Input 1\n# Sample Output 1\n\n# Edge case\n```\n"
        "```\n3 3\n#.#\n###\n# . #\n```\n"
    )
    parsed = parse_inputs(text, kind=STDIN)
    assert parsed.inputs == ("3 3\n#.#\n###\n# . #\n",)
    assert parsed.dropped == 1


@pytest.mark.parametrize("placeholder", ["<the first input>", "...", "<input>"])
def test_format_placeholders_copied_from_the_prompt_are_dropped(placeholder: str) -> None:
    parsed = parse_inputs(f"Input 1:\n```\n{placeholder}\n```\nInput 2:\n```\n7\n```", kind=STDIN)
    assert parsed.inputs == ("7\n",)
    assert parsed.dropped == 1


def test_a_solution_block_among_tests_is_skipped() -> None:
    text = (
        "```python\nimport sys\nprint(sys.stdin.read())\n```\n"
        "Input:\n```\n1\n```\nOutput:\n```\n1\n```"
    )
    parsed = parse_generated_tests(text, kind=STDIN)
    assert parsed.tests == (TestCase("1\n", "1\n"),)
    assert parsed.dropped == 1


@pytest.mark.parametrize("char", ["#", "*", "-", " ", "`", "[", "(", "'", "Input ", "=", "\n"])
def test_long_runs_of_one_character_stay_fast(char: str) -> None:
    """A grid row of ten thousand '#' once took exponential time in a heading regex."""
    started = time.perf_counter()
    line = char * 20_000 + "x!"
    for kind in ProblemKind:
        parse_inputs(f"```\n{line}\n```\n{line}\n", kind=kind, arity=2)
        parse_generated_tests(f"{line}\nInput:\n{line}\nOutput:\n{line}", kind=kind)
    assert time.perf_counter() - started < 5


def test_unfenced_stdin_input_loses_the_sentences_around_it() -> None:
    text = "Sure, here is a good test input.\n5\n3 4\nIt covers the smallest case well!\n"
    assert parse_inputs(text, kind=STDIN).inputs == ("5\n3 4\n",)


def test_block_roles_come_from_the_first_telling_word_of_the_label() -> None:
    text = (
        "Input 1 (a large result):\n```\n100\n```\nExpected output for input 1:\n```\n5050\n```\n"
    )
    assert parse_inputs(text, kind=STDIN).inputs == ("100\n",)
    assert parse_generated_tests(text, kind=STDIN).tests == (TestCase("100\n", "5050\n"),)


def test_functional_one_object_naming_every_parameter() -> None:
    """What the 0.5B model wrote for a LeetCode problem: the arguments as one object."""
    text = 'Input 1:\n{"details": ["7868190130M7522", "5303914400F9211"]}\nOutput: 2\n'
    one = parse_inputs(text, kind=FUNCTIONAL, parameters=("details",))
    assert one.inputs == ('["7868190130M7522", "5303914400F9211"]',)
    two = parse_inputs('```\n{"k": 2, "nums": [1]}\n```', kind=FUNCTIONAL, parameters=("nums", "k"))
    assert two.inputs == ("[1]\n2",)
    # Without parameter names an object is just a dict argument.
    assert parse_inputs('```\n{"k": 2}\n```', kind=FUNCTIONAL, arity=1).inputs == ('{"k": 2}',)


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_values_are_dropped_not_raised(depth: int) -> None:
    nested = "[" * depth + "]" * depth
    for text in (f"```\n{nested}\n```", f"assert f({nested}) == {nested}", f"x = {nested}"):
        parsed = parse_inputs(text, kind=FUNCTIONAL, arity=1)
        assert all(len(item) <= MAX_INPUT_CHARS for item in parsed.inputs)
        parse_generated_tests(text, kind=FUNCTIONAL, arity=1)


def test_inputs_are_salvaged_from_a_cut_off_test_script() -> None:
    answer = (
        "```python\ndef solve(s):\n    return s\n\ntest_cases = [\n"
        '    ("hello world", "world hello"),\n    ("a b c", "c b a"),\n    ("x y z w v u t'
    )
    parsed = parse_inputs(answer, kind=ProblemKind.STDIN)
    assert parsed.inputs == ("hello world\n", "a b c\n")
    # real inputs win over anything salvaged from a script
    both = answer.replace("```python", "```\n1 2\n```\n```python")
    assert parse_inputs(both, kind=ProblemKind.STDIN).inputs == ("1 2\n",)


@pytest.mark.parametrize(
    ("block", "inputs"),
    [
        ("# Input 1\n3 5\n\n# Input 2\n-2 7", ("3 5\n", "-2 7\n")),  # the 0.5B model
        ("## Test case 1:\n1\n## Test case 2:\n2", ("1\n", "2\n")),
        ("#.#\n###\n#.#", ("#.#\n###\n#.#\n",)),  # a grid is data, not headings
        ("# 3 5", ("# 3 5\n",)),
    ],
)
def test_comment_headings_inside_one_block_split_it(block: str, inputs: tuple[str, ...]) -> None:
    parsed = parse_inputs(f"```\n{block}\n```", kind=ProblemKind.STDIN)
    assert parsed.inputs == inputs
