"""Code extraction from real-looking model answers, and that no answer can make it raise."""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codestar.pipeline.extraction import extract_code, find_blocks, strip_thinking
from codestar.problems.model import ProblemKind

STDIN = ProblemKind.STDIN
FUNCTIONAL = ProblemKind.FUNCTIONAL

PROGRAM = "import sys\n\nn = int(input())\nprint(sum(map(int, input().split())) * n)"
SOLUTION = (
    "class Solution:\n"
    "    def twoSum(self, nums: list[int], target: int) -> list[int]:\n"
    "        seen = {}\n"
    "        for i, x in enumerate(nums):\n"
    "            if target - x in seen:\n"
    "                return [seen[target - x], i]\n"
    "            seen[x] = i\n"
    "        return []"
)


@pytest.mark.parametrize("tag", ["python", "py", "Python3", "python3", "PYTHON", "", "py3"])
def test_every_fence_spelling_is_read(tag: str) -> None:
    text = f"Here is my solution.\n\n```{tag}\n{PROGRAM}\n```\n\nIt sums the numbers."
    found = extract_code(text, kind=STDIN)
    assert found is not None
    assert found.code == PROGRAM
    assert found.reason == "fenced"
    assert not found.truncated


def test_tilde_fences_and_info_after_the_language() -> None:
    found = extract_code(f"~~~python title=sol.py\n{PROGRAM}\n~~~", kind=STDIN)
    assert found is not None and found.code == PROGRAM


@pytest.mark.parametrize("info", ["{.python}", "python:main.py", "Python3 title=x"])
def test_language_tags_with_decoration_are_python(info: str) -> None:
    (block,) = find_blocks(f"```{info}\nx = 1\n```")
    assert block.is_python


def test_functional_takes_the_block_defining_the_entry_point_not_the_usage_example() -> None:
    text = (
        "First a helper idea:\n```python\nnums = [2, 7, 11, 15]\n```\n"
        f"The solution:\n```python\n{SOLUTION}\n```\n"
        "Usage:\n```python\nprint(Solution().twoSum([2, 7, 11, 15], 9))\n"
        "assert Solution().twoSum([3, 3], 6) == [0, 1]\n```"
    )
    found = extract_code(text, kind=FUNCTIONAL, entry_point="twoSum")
    assert found is not None
    assert found.code == SOLUTION
    assert "twoSum" in found.reason


def test_functional_plain_function_entry_point() -> None:
    code = "def helper(x):\n    return x * 2\n\ndef solve(a, b):\n    return helper(a) + b"
    text = f"```python\nprint(solve(1, 2))\n```\n```python\n{code}\n```"
    found = extract_code(text, kind=FUNCTIONAL, entry_point="solve")
    assert found is not None and found.code == code


def test_functional_prefers_the_larger_of_two_defining_blocks() -> None:
    small = "class Solution:\n    def twoSum(self, nums, target):\n        pass"
    text = f"```python\n{small}\n```\nFull version:\n```python\n{SOLUTION}\n```"
    found = extract_code(text, kind=FUNCTIONAL, entry_point="twoSum")
    assert found is not None and found.code == SOLUTION


def test_stdin_takes_the_block_that_reads_input_over_a_larger_test_snippet() -> None:
    snippet = "def check():\n    a = 1\n    b = 2\n    c = 3\n    d = 4\n    return a + b + c + d"
    text = f"```python\n{PROGRAM}\n```\nAnd a test:\n```python\n{snippet}\n```"
    found = extract_code(text, kind=STDIN)
    assert found is not None and found.code == PROGRAM


def test_blocks_in_other_languages_and_sample_io_are_ignored() -> None:
    text = (
        "```cpp\nint main() { return 0; }\n```\n"
        "```\n3\n1 2 3\n```\n"
        f"```python\n{PROGRAM}\n```\n"
        "```\n18\n```"
    )
    found = extract_code(text, kind=STDIN)
    assert found is not None and found.code == PROGRAM


def test_no_fence_whole_answer_is_code() -> None:
    found = extract_code(PROGRAM, kind=STDIN)
    assert found is not None
    assert found.code == PROGRAM
    assert found.reason == "unfenced, whole answer"


def test_no_fence_prose_before_and_after_is_dropped() -> None:
    text = (
        "Sure! Here's a Python program that solves it:\n\n"
        f"{PROGRAM}\n\n"
        "This program reads n, then the numbers, and prints the result.\n"
        "The complexity is O(n)."
    )
    found = extract_code(text, kind=STDIN)
    assert found is not None
    assert found.code == PROGRAM
    assert found.reason == "unfenced, prose removed"


def test_no_fence_functional_with_prose() -> None:
    text = f"To solve this we use a hash map.\n{SOLUTION}\nThat is all, good luck!"
    found = extract_code(text, kind=FUNCTIONAL, entry_point="twoSum")
    assert found is not None and found.code == SOLUTION


def test_stray_prose_words_that_parse_are_trimmed() -> None:
    found = extract_code(f"Solution\n{PROGRAM}\nDone", kind=STDIN)
    assert found is not None and found.code == PROGRAM


def test_unterminated_final_fence_keeps_what_is_there_and_says_so() -> None:
    text = f"```python\n{PROGRAM}"
    found = extract_code(text, kind=STDIN)
    assert found is not None
    assert found.code == PROGRAM
    assert found.truncated
    assert "unterminated" in found.reason


def test_answer_cut_mid_statement_keeps_the_parseable_prefix() -> None:
    text = "```python\nn = int(input())\ntotal = 0\nfor i in range(n):\n    total += (i"
    found = extract_code(text, kind=STDIN)
    assert found is not None
    assert found.truncated
    assert found.code == "n = int(input())\ntotal = 0"


def test_closing_fence_glued_to_the_last_line() -> None:
    found = extract_code("```python\nn = int(input())\nprint(n)```", kind=STDIN)
    assert found is not None and found.code == "n = int(input())\nprint(n)"


def test_think_sections_are_removed_first() -> None:
    text = (
        "<think>\nMaybe:\n```python\nprint('draft')\n```\n</think>\n```python\nprint(input())\n```"
    )
    found = extract_code(text, kind=STDIN)
    assert found is not None and found.code == "print(input())"


def test_lone_closing_think_tag_drops_the_reasoning_before_it() -> None:
    assert strip_thinking("reasoning ```python\nx=1\n``` </think>answer") == "answer"


def test_nested_longer_fence_keeps_inner_fences_inside() -> None:
    inner = 'DOC = """\n```\nnot a fence end\n```\n"""\nprint(input())'
    found = extract_code(f"````python\n{inner}\n````", kind=STDIN)
    assert found is not None and found.code == inner


def test_fence_opened_after_prose_on_the_same_line() -> None:
    found = extract_code(f"Here is the code: ```python\n{PROGRAM}\n```", kind=STDIN)
    assert found is not None and found.code == PROGRAM


def test_indented_block_inside_a_markdown_list_is_dedented() -> None:
    body = "\n".join("   " + line if line else "" for line in PROGRAM.split("\n"))
    found = extract_code(f"1. Code:\n   ```python\n{body}\n   ```", kind=STDIN)
    assert found is not None and found.code == PROGRAM


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n",
        "I cannot solve this problem.",
        "```python\n```",
        "```python\nthis is not python at all !!\n```",
        "Solution",
        "42",
        "```cpp\nint main() {}\n```",
    ],
)
def test_nothing_usable_gives_none(text: str) -> None:
    assert extract_code(text, kind=STDIN) is None


def test_crlf_and_nul_bytes() -> None:
    text = "```python\r\nn = int(input())\r\nprint(n)\x00\r\n```"
    found = extract_code(text, kind=STDIN)
    assert found is not None and found.code == "n = int(input())\nprint(n)"


def test_find_blocks_labels_and_unclosed_flag() -> None:
    blocks = find_blocks("Input 1:\n```\n5\n```\n**Output:**\n```text\n6\n```\n```py\nx")
    assert [(b.label, b.language, b.body, b.closed) for b in blocks] == [
        ("Input 1:", "", "5", True),
        ("**Output:**", "text", "6", True),
        ("", "py", "x", False),
    ]


def test_huge_answers_stay_fast() -> None:
    prose = ("This sentence is prose and not code at all. " * 20 + "\n") * 1000
    started = time.perf_counter()
    assert extract_code(prose, kind=STDIN) is None
    found = extract_code(prose + f"```python\n{PROGRAM}\n```", kind=STDIN)
    assert found is not None and found.code == PROGRAM
    assert time.perf_counter() - started < 10


def test_deeply_nested_code_does_not_raise() -> None:
    assert extract_code("x = " + "(" * 5000 + ")" * 5000, kind=STDIN) is None
    assert extract_code("```python\nx = " + "[" * 100_000 + "\n```", kind=STDIN) is None


_ADVERSARIAL_PIECES = st.sampled_from(
    [
        "```",
        "```python\n",
        "````\n",
        "~~~",
        "\n",
        "<think>",
        "</think>",
        "def f(x):\n    return x\n",
        "class Solution:\n    def f(self, a):\n",
        "print(input())\n",
        '"""',
        "'''```'''",
        "\x00",
        "é漢字🙂",
        "    ",
        "\t",
        "(" * 50,
        "Answer: A",
        "import sys\n",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_never_raises_on_arbitrary_text(text: str) -> None:
    for kind in ProblemKind:
        found = extract_code(text, kind=kind, entry_point="f")
        assert found is None or found.code.strip()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_ADVERSARIAL_PIECES, st.text(max_size=20)), max_size=40))
def test_never_raises_on_adversarial_model_output(pieces: list[str]) -> None:
    text = "".join(pieces)
    for kind in ProblemKind:
        found = extract_code(text, kind=kind, entry_point="f")
        if found is not None:
            compile(found.code, "<extracted>", "exec")  # what comes back always parses


_ANSWER_STYLES = {
    "fenced with prose": "Here is the solution:\n\n```python\n{code}\n```\n\nIt runs in O(n).",
    "bare": "{code}",
    "prose around bare code": "Sure! Here's the code:\n\n{code}\n\n### Explanation\n1. Read.\n",
    "solution then usage block": "```py\n{code}\n```\nExample usage:\n```python\nprint(42)\n```",
    "unterminated": "```Python3\n{code}\n",
}


def test_real_solutions_survive_every_answer_style(shared_data: Path) -> None:
    """The programs of a real solution dump, wrapped the ways models write them."""
    rows = [
        json.loads(line)
        for line in (shared_data / "lcb_v1_gpt-4o-mini_solutions.jsonl").read_text().splitlines()
    ]
    failures = []
    for row in rows[::4]:
        code = row["solution"].strip("\n")
        metadata = row["metadata"]
        entry = (json.loads(metadata) if isinstance(metadata, str) else metadata).get("func_name")
        kind = FUNCTIONAL if entry else STDIN
        for style, template in _ANSWER_STYLES.items():
            found = extract_code(template.format(code=code), kind=kind, entry_point=entry)
            # Comments may be trimmed at the edges; the program itself must be intact.
            if found is None or ast.dump(ast.parse(found.code)) != ast.dump(ast.parse(code)):
                failures.append((row["task_id"], style))
    assert failures == []


def test_unclosed_block_followed_by_a_new_tagged_fence() -> None:
    text = "```python\nx = 1\n```python\nprint(input())\n```"
    blocks = find_blocks(text)
    assert [b.body for b in blocks] == ["x = 1", "print(input())"]
    found = extract_code(text, kind=STDIN)
    assert found is not None and found.code == "print(input())"


@pytest.mark.parametrize("char", ["`", "~", "#", " ", "(", "\n", "a ", "``` ", "<think>"])
def test_long_runs_of_one_character_stay_fast(char: str) -> None:
    started = time.perf_counter()
    for kind in ProblemKind:
        extract_code(char * 50_000 + "x", kind=kind, entry_point="f")
    assert time.perf_counter() - started < 5


def test_label_lines_that_parse_as_annotations_are_prose() -> None:
    text = f"Solution: here\n{PROGRAM}\nComplexity: O(n)\nMemory: O(1)"
    found = extract_code(text, kind=STDIN)
    assert found is not None and found.code == PROGRAM
    assert extract_code("Input: 3\nOutput: 6", kind=STDIN) is None
