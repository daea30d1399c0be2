"""LiveCodeBench records: fields, compressed private tests, hostile pickles, selection."""

from __future__ import annotations

import base64
import json
import os
import pickle
import zlib
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codestar.errors import ProblemFormatError
from codestar.problems.livecodebench import (
    decode_private_test_cases,
    load_livecodebench,
    select_problems,
)
from codestar.problems.model import Problem, ProblemKind, TestCase

HIDDEN = [
    {"input": "[1, 2]\n3", "output": "4", "testtype": "functional"},
    {"input": "[]\n0", "output": "0", "testtype": "functional"},
]


def compress(value: object, protocol: int = pickle.DEFAULT_PROTOCOL) -> str:
    """LiveCodeBench's encoding: base64 of zlib of a pickle."""
    return base64.b64encode(zlib.compress(pickle.dumps(value, protocol=protocol))).decode()


def functional_record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "question_title": "add-up",
        "question_content": "Return the sum of nums plus k.",
        "platform": "leetcode",
        "question_id": "9001",
        "contest_id": "weekly-contest-1",
        "contest_date": "2023-08-05T00:00:00",
        "starter_code": (
            "class Solution:\n    def addUp(self, nums: List[int], k: int) -> int:\n        "
        ),
        "difficulty": "easy",
        "public_test_cases": json.dumps(
            [{"input": "[1]\n1", "output": "2", "testtype": "functional"}]
        ),
        "private_test_cases": compress(json.dumps(HIDDEN)),
        "metadata": json.dumps({"func_name": "addUp"}),
    }
    record.update(changes)
    return record


def stdin_record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "question_title": "Echo",
        "question_content": "Print the input.",
        "platform": "atcoder",
        "question_id": "abc001_a",
        "contest_id": "abc001",
        "contest_date": "2024-01-20T00:00:00",
        "starter_code": "",
        "difficulty": "medium",
        "public_test_cases": json.dumps([{"input": "1\n", "output": "1\n", "testtype": "stdin"}]),
        "private_test_cases": json.dumps([{"input": "2\n", "output": "2\n", "testtype": "stdin"}]),
        "metadata": "{}",
    }
    record.update(changes)
    return record


def test_functional_record_with_compressed_private_tests() -> None:
    result = load_livecodebench(functional_record(), strict=True)
    assert result.errors == ()
    (problem,) = result.problems
    assert problem.kind is ProblemKind.FUNCTIONAL
    assert problem.entry_point == "addUp"
    assert problem.public_tests == (TestCase("[1]\n1", "2"),)
    assert problem.hidden_tests == (TestCase("[1, 2]\n3", "4"), TestCase("[]\n0", "0"))
    assert problem.contest_date == datetime(2023, 8, 5)
    assert (problem.id, problem.title, problem.platform) == ("9001", "add-up", "leetcode")
    assert problem.difficulty == "easy"
    assert problem.metadata["contest_id"] == "weekly-contest-1"


def test_stdin_record_with_plain_json_private_tests() -> None:
    (problem,) = load_livecodebench(stdin_record(), strict=True).problems
    assert problem.kind is ProblemKind.STDIN
    assert problem.entry_point is None
    assert problem.hidden_tests == (TestCase("2\n", "2\n"),)


def test_entry_point_from_starter_code_when_metadata_lacks_it() -> None:
    record = functional_record(metadata="{}")
    (problem,) = load_livecodebench(record, strict=True).problems
    assert problem.kind is ProblemKind.FUNCTIONAL
    assert problem.entry_point == "addUp"


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_decoding_works_for_every_pickle_protocol(protocol: int) -> None:
    assert decode_private_test_cases(compress("[1, 2]", protocol)) == "[1, 2]"


class _RunsCommand:
    """Pickles to a call of os.system, as a hostile dataset file could."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, (self.command,))


class _Evaluates:
    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (eval, ("__import__('os').getpid()",))


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_hostile_pickle_is_refused_without_running_anything(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "pwned"
    blob = compress(_RunsCommand(f"touch {marker}"), protocol)
    with pytest.raises(ProblemFormatError, match="refusing"):
        decode_private_test_cases(blob)
    assert not marker.exists()
    record = functional_record(private_test_cases=blob)
    result = load_livecodebench([record])
    assert result.problems == ()
    assert "private_test_cases" in str(result.errors[0])
    assert not marker.exists()


def test_pickle_that_calls_eval_is_refused() -> None:
    with pytest.raises(ProblemFormatError, match=r"builtins\.eval"):
        decode_private_test_cases(compress(_Evaluates()))


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (compress(["not", "a", "string"]), "holds a list"),
        (compress(b"bytes"), "holds a bytes"),
        (base64.b64encode(b"not zlib").decode(), "not zlib"),
        ("!!! not base64 !!!", "base64"),
        (base64.b64encode(zlib.compress(b"\x80\x05garbage")).decode(), "pickle"),
    ],
)
def test_undecodable_private_tests(blob: str, message: str) -> None:
    with pytest.raises(ProblemFormatError, match=message):
        decode_private_test_cases(blob)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"question_content": None}, "question_content"),
        ({"public_test_cases": "[{"}, "public_test_cases"),
        ({"public_test_cases": json.dumps([{"input": 1, "output": "2"}])}, "public_test_cases"),
        (
            {"public_test_cases": json.dumps([{"input": "1", "output": "2", "testtype": "x"}])},
            "public_test_cases",
        ),
        (
            {"public_test_cases": [{"input": "1", "output": "2", "testtype": []}]},
            "public_test_cases",
        ),
        ({"metadata": "[1]"}, "metadata"),
        ({"metadata": "{", "starter_code": ""}, "metadata"),
        ({"contest_date": "last tuesday"}, "contest_date"),
        ({"private_test_cases": compress(json.dumps({"a": 1}))}, "private_test_cases"),
    ],
)
def test_malformed_record_names_record_and_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ProblemFormatError) as caught:
        load_livecodebench([stdin_record(), functional_record(**changes)], strict=True)
    message = str(caught.value)
    assert "record 1 (9001)" in message
    assert repr(field) in message


def test_functional_without_any_function_name_is_an_error() -> None:
    record = functional_record(metadata="{}", starter_code="")
    result = load_livecodebench(record)
    assert "func_name" in str(result.errors[0])


def test_mixed_test_types_are_an_error() -> None:
    record = stdin_record(private_test_cases=json.dumps(HIDDEN))
    assert "mixes" in str(load_livecodebench(record).errors[0])


def test_non_strict_collects_errors_and_keeps_going(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    lines = [
        json.dumps(stdin_record()),
        "{not json",
        json.dumps(functional_record(question_content=None)),
        json.dumps(["a list"]),
        json.dumps(functional_record()),
    ]
    path.write_text("\n".join(lines) + "\n")
    result = load_livecodebench(path)
    assert [p.id for p in result.problems] == ["abc001_a", "9001"]
    assert len(result.errors) == 3
    assert "line 2" in str(result.errors[0])
    assert "record 2 (9001)" in str(result.errors[1])
    assert "record 3" in str(result.errors[2])
    with pytest.raises(ProblemFormatError, match="line 2"):
        load_livecodebench(path, strict=True)


@pytest.mark.parametrize("shape", ["object", "pretty", "list", "jsonl", "bad-first-line"])
def test_file_shapes(tmp_path: Path, shape: str) -> None:
    path = tmp_path / "records.json"
    if shape == "object":
        path.write_text(json.dumps(stdin_record()))
    elif shape == "pretty":
        path.write_text(json.dumps(stdin_record(), indent=2))
    elif shape == "bad-first-line":
        path.write_text("{oops\n" + json.dumps(stdin_record()) + "\n")
        result = load_livecodebench(path)
        assert len(result.problems) == 1
        assert "record 0 (line 1)" in str(result.errors[0])
        return
    elif shape == "list":
        path.write_text(json.dumps([stdin_record(), functional_record()]))
    else:
        path.write_text(json.dumps(stdin_record()) + "\n\n" + json.dumps(functional_record()))
    result = load_livecodebench(str(path), strict=True)
    assert len(result.problems) == (1 if shape in ("object", "pretty") else 2)


def test_not_records_at_all(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    path.write_text("42")
    with pytest.raises(ProblemFormatError, match="not a JSON object"):
        load_livecodebench(path)
    with pytest.raises(ProblemFormatError, match="no such"):
        load_livecodebench(tmp_path / "missing.jsonl")


def test_release_v1_loads_completely(shared_data: Path) -> None:
    result = load_livecodebench(shared_data / "lcb_release_v1_public.jsonl", strict=True)
    problems = result.problems
    assert len(problems) == 400
    assert Counter(p.platform for p in problems) == {
        "atcoder": 210,
        "leetcode": 181,
        "codeforces": 9,
    }
    assert Counter(p.difficulty for p in problems) == {"easy": 142, "medium": 168, "hard": 90}
    functional = [p for p in problems if p.kind is ProblemKind.FUNCTIONAL]
    assert len(functional) == 181
    assert all(p.entry_point and p.starter_code for p in functional)
    assert all(p.public_tests and not p.hidden_tests for p in problems)
    assert all(p.contest_date is not None for p in problems)
    first = next(p for p in problems if p.id == "2727")
    assert first.entry_point == "countSeniors"
    assert json.loads(first.public_tests[0].input.split("\n")[0])[0] == "7868190130M7522"

    window = select_problems(problems, start=date(2023, 9, 1), end=date(2023, 9, 30))
    assert window and all(p.contest_date and p.contest_date.month == 9 for p in window)
    hard_leetcode = select_problems(problems, difficulty="HARD", platform=["LeetCode"])
    assert hard_leetcode and all(
        p.difficulty == "hard" and p.platform == "leetcode" for p in hard_leetcode
    )
    assert len(select_problems(problems, difficulty=["easy", "medium"])) == 310


def test_select_problems_window_edges_and_undated() -> None:
    records = [
        stdin_record(question_id="a", contest_date="2024-01-31T00:00:00"),
        stdin_record(question_id="b", contest_date="2024-02-01T00:00:00"),
        stdin_record(question_id="c", contest_date=None),
    ]
    problems = load_livecodebench(records, strict=True).problems

    def ids(chosen: tuple[Problem, ...]) -> list[str]:
        return [p.id for p in chosen]

    assert ids(select_problems(problems)) == ["a", "b", "c"]
    assert ids(select_problems(problems, end=date(2024, 1, 31))) == ["a"]
    assert ids(select_problems(problems, start=date(2024, 2, 1))) == ["b"]
    assert ids(select_problems(problems, start=datetime(2024, 1, 31, 12))) == ["b"]
    assert ids(select_problems(problems, platform="leetcode")) == []


_field_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=30),
    st.sampled_from(
        [
            "[",
            "{}",
            "[]",
            '[{"input": "1", "output": "1"}]',
            "eJwDAAAAAAE=",
            '{"func_name": 3}',
            "2024-13-01",
            "functional",
        ]
    ),
    st.lists(
        st.dictionaries(
            st.sampled_from(["input", "output", "testtype"]),
            st.text(max_size=5) | st.integers(),
            max_size=3,
        ),
        max_size=2,
    ),
)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "question_id",
                "question_content",
                "starter_code",
                "public_test_cases",
                "private_test_cases",
                "metadata",
                "contest_date",
                "difficulty",
            ]
        ),
        _field_values,
    )
)
def test_any_record_gives_a_problem_or_a_format_error(changes: dict[str, Any]) -> None:
    result = load_livecodebench(functional_record(**changes))
    assert len(result.problems) + len(result.errors) == 1
