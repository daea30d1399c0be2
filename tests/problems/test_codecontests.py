"""CodeContests records: tests as lists or Python literals, public/hidden split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codestar.errors import ProblemFormatError
from codestar.problems.codecontests import load_codecontests
from codestar.problems.model import ProblemKind, TestCase

DESCRIPTION = """# 1A. Sum

**ID:** 1a_sum
**Difficulty:** 7

## Description

Print a + b.

## Categories

- math

## Examples

### Example 1

**Input**:
```
1 2
```

## Testing

Run ./run.sh
"""

TESTS = [{"input": f"{i} {i}", "output": str(2 * i)} for i in range(5)]


def record(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "1a_sum",
        "cluster": "c1",
        "description": DESCRIPTION,
        "tags": "math\nimplementation",
        "tests": TESTS,
    }
    base.update(changes)
    return base


def test_split_statement_and_metadata() -> None:
    (problem,) = load_codecontests(record(), strict=True).problems
    assert problem.kind is ProblemKind.STDIN
    assert problem.public_tests == (TestCase("0 0", "0"), TestCase("1 1", "2"))
    assert len(problem.hidden_tests) == 3
    assert problem.title == "1A. Sum"
    assert problem.statement == "# 1A. Sum\n\nPrint a + b."
    assert problem.metadata["tags"] == ("math", "implementation")
    assert problem.metadata["rating"] == "7"


@pytest.mark.parametrize("count", [0, 1, 5, 9])
def test_public_count(count: int) -> None:
    (problem,) = load_codecontests(record(), public_count=count, strict=True).problems
    assert len(problem.public_tests) == min(count, 5)
    assert problem.tests() == tuple(TestCase(t["input"], t["output"]) for t in TESTS)


def test_negative_public_count_is_refused() -> None:
    with pytest.raises(ValueError, match="public_count"):
        load_codecontests(record(), public_count=-1)


def test_tests_as_python_literal_and_as_columns() -> None:
    literal = record(tests=repr(TESTS), tags=["math"], description="Add two numbers.")
    columns = record(tests={"input": ["1", "2"], "output": ["1", "2"]})
    (from_literal, from_columns) = load_codecontests([literal, columns], strict=True).problems
    assert from_literal.tests() == load_codecontests(record(), strict=True).problems[0].tests()
    assert from_literal.statement == "Add two numbers."
    assert from_columns.public_tests == (TestCase("1", "1"), TestCase("2", "2"))


def test_literal_is_never_evaluated(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    hostile = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    result = load_codecontests(record(tests=hostile))
    assert "'tests'" in str(result.errors[0])
    assert not marker.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": None}, "id"),
        ({"description": ""}, "description"),
        ({"tests": []}, "tests"),
        ({"tests": [{"input": "1"}]}, "tests"),
        ({"tests": {"input": ["1"], "output": []}}, "tests"),
        ({"tags": 3}, "tags"),
    ],
)
def test_malformed_records(changes: dict[str, Any], field: str) -> None:
    result = load_codecontests([record(id="ok"), record(**changes)])
    assert [p.id for p in result.problems] == ["ok"]
    assert "CodeContests record 1" in str(result.errors[0])
    assert repr(field) in str(result.errors[0])
    with pytest.raises(ProblemFormatError):
        load_codecontests([record(**changes)], strict=True)


def test_dev_file(shared_data: Path) -> None:
    result = load_codecontests(shared_data / "codecontests_dev.jsonl", strict=True)
    assert len(result.problems) == 150
    assert all(len(p.public_tests) == 2 and len(p.hidden_tests) >= 7 for p in result.problems)
    # The packager's sections (its Examples list shows a hidden test) are not in statements.
    assert not any("## Examples" in p.statement or "run.sh" in p.statement for p in result.problems)
    first = result.problems[0]
    assert first.id == "1003_f_abbreviation_11357"
    assert first.metadata["tags"] == ("dp", "hashing", "strings")
    assert first.statement.startswith("# 1003_F. Abbreviation\n\nYou are given a text")


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["id", "description", "tags", "tests"]),
        st.none()
        | st.integers()
        | st.text(max_size=20)
        | st.sampled_from(["[", "[{}]", "{'a'}"])
        | st.lists(
            st.dictionaries(
                st.sampled_from(["input", "output"]),
                st.text(max_size=4) | st.integers(),
                max_size=2,
            ),
            max_size=3,
        ),
    )
)
def test_any_record_gives_a_problem_or_a_format_error(changes: dict[str, Any]) -> None:
    result = load_codecontests(record(**changes))
    assert len(result.problems) + len(result.errors) == 1
