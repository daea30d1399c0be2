"""Loading any supported file: the format is told by content, unknown formats are refused."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

import codestar.problems as problems_package
from codestar.errors import ProblemFormatError
from codestar.problems import ProblemKind, detect_format, load_problems

LCB_RECORD = {
    "question_id": "abc1_a",
    "question_content": "Echo.\n\nSample Input 1\n\n1\n\nSample Output 1\n\n1\n",
    "public_test_cases": json.dumps([{"input": "1\n", "output": "1\n", "testtype": "stdin"}]),
}
CC_RECORD = {"id": "1a", "description": "Add.", "tests": [{"input": "1 2", "output": "3"}] * 3}


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.jsonl", json.dumps(LCB_RECORD) + "\n" + json.dumps(LCB_RECORD), "livecodebench"),
        ("a.json", json.dumps([CC_RECORD]), "codecontests"),
        ("a.data", json.dumps(CC_RECORD), "codecontests"),
        ("a.md", "# Title\nInput:\n1\nOutput:\n1\n", "statement"),
        ("a.md", '{"question_content": "but it is markdown"}', "statement"),
        ("problem", "Input: 1\nOutput: 2\n", "statement"),
    ],
)
def test_detect_format(name: str, content: str, expected: str) -> None:
    assert detect_format(content, name=name) == expected


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.jsonl", json.dumps({"prompt": "x", "entry_point": "f"}), "keys: entry_point, prompt"),
        ("a.json", "[1, 2]", "no readable record"),
        ("a.csv", "id,text\n1,hello\n", "unknown format"),
        ("a.md", "  \n", "empty"),
    ],
)
def test_unknown_formats_say_what_was_expected(name: str, content: str, message: str) -> None:
    with pytest.raises(ProblemFormatError, match=message) as caught:
        detect_format(content, name=name)
    if message != "empty":
        assert "LiveCodeBench" in str(caught.value) and "CodeContests" in str(caught.value)


def test_load_each_format(tmp_path: Path) -> None:
    lcb = tmp_path / "lcb.jsonl.gz"
    with gzip.open(lcb, "wt") as stream:
        stream.write(json.dumps(LCB_RECORD) + "\n")
    cc = tmp_path / "cc.json"
    cc.write_text(json.dumps([CC_RECORD]))
    statement = tmp_path / "two-sum.md"
    statement.write_text("Add.\n\nExample 1:\nInput: a = 1, b = 2\nOutput: 3\n")

    (from_lcb,) = load_problems(lcb, strict=True).problems
    assert from_lcb.id == "abc1_a" and from_lcb.kind is ProblemKind.STDIN
    (from_cc,) = load_problems(cc, strict=True).problems
    assert (from_cc.id, len(from_cc.public_tests), len(from_cc.hidden_tests)) == ("1a", 2, 1)
    with pytest.raises(ProblemFormatError, match="no function is named"):
        load_problems(statement, strict=True)
    statement.write_text("```python\ndef add(a, b):\n```\n" + statement.read_text())
    (from_md,) = load_problems(str(statement)).problems
    assert (from_md.id, from_md.entry_point) == ("two-sum", "add")
    assert from_md.public_tests[0].input == "1\n2"


def test_a_bad_statement_is_an_error_in_the_result_unless_strict(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("No examples here.")
    result = load_problems(path)
    assert result.problems == () and not result.ok
    assert "bad: no examples" in str(result.errors[0])
    with pytest.raises(ProblemFormatError, match="no examples"):
        load_problems(path, strict=True)


def test_missing_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(ProblemFormatError, match="no such problem file"):
        load_problems(tmp_path / "missing.md")
    binary = tmp_path / "blob.md"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ProblemFormatError, match="cannot read"):
        load_problems(binary)


def test_shared_data_files_by_content(shared_data: Path, tmp_path: Path) -> None:
    # Renamed, so only the content can tell the format.
    lcb = shutil.copy(shared_data / "lcb_release_v1_public.jsonl", tmp_path / "one.data")
    cc = shutil.copy(shared_data / "codecontests_dev.jsonl", tmp_path / "two.data")
    assert len(load_problems(lcb, strict=True).problems) == 400
    assert len(load_problems(cc, strict=True).problems) == 150


def test_package_exports_are_pinned() -> None:
    assert set(problems_package.__all__) >= {
        "Problem",
        "ProblemKind",
        "TestCase",
        "TestSelection",
        "LoadResult",
        "EntryPoint",
        "load_problems",
        "load_livecodebench",
        "load_codecontests",
        "parse_statement",
        "select_problems",
        "find_entry_point",
    }
    for name in problems_package.__all__:
        assert hasattr(problems_package, name), name
