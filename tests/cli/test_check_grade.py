"""`codestar check` and `codestar grade` through the real CLI (subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

STATEMENT = """# Double it
Read n and print 2n.

Input:
```
21
```
Output:
```
42
```

Input:
```
5
```
Output:
```
10
```
"""

LCB_RECORDS = [
    {
        "question_title": "double",
        "question_content": "Print twice n.",
        "platform": "atcoder",
        "question_id": "double",
        "contest_id": "x",
        "contest_date": "2024-01-01T00:00:00",
        "starter_code": "",
        "difficulty": "easy",
        "public_test_cases": json.dumps([{"input": "2\n", "output": "4\n", "testtype": "stdin"}]),
        "private_test_cases": json.dumps([{"input": "7\n", "output": "14\n", "testtype": "stdin"}]),
        "metadata": "{}",
    },
    {
        "question_title": "add",
        "question_content": "Add.",
        "platform": "leetcode",
        "question_id": "add",
        "contest_id": "y",
        "contest_date": "2024-01-02T00:00:00",
        "starter_code": "class Solution:\n    def add(self, a: int, b: int) -> int:\n        ",
        "difficulty": "easy",
        "public_test_cases": json.dumps(
            [{"input": "1\n2", "output": "3", "testtype": "functional"}]
        ),
        "private_test_cases": json.dumps(
            [{"input": "5\n5", "output": "10", "testtype": "functional"}]
        ),
        "metadata": json.dumps({"func_name": "add"}),
    },
]


def codestar(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codestar", *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture()
def files(tmp_path: Path) -> Path:
    (tmp_path / "double.md").write_text(STATEMENT)
    (tmp_path / "good.py").write_text("print(int(input()) * 2)\n")
    (tmp_path / "bad.py").write_text("print(int(input()) + 2)\n")
    (tmp_path / "noisy.py").write_text(
        "import os\nos.write(1, b'{\"pass@1\": 1.0}\\n')\nprint(int(input()) * 2)\n"
    )
    (tmp_path / "loop.py").write_text("while True:\n    pass\n")
    (tmp_path / "problems.jsonl").write_text("\n".join(json.dumps(r) for r in LCB_RECORDS))
    return tmp_path


def test_check_table_and_exit_status(files: Path) -> None:
    good = codestar("check", str(files / "double.md"), str(files / "good.py"))
    assert good.returncode == 0, good.stderr
    assert "2/2 passed" in good.stdout
    bad = codestar("check", str(files / "double.md"), str(files / "bad.py"))
    assert bad.returncode == 1
    assert "wrong_answer" in bad.stdout


def test_check_json_with_timeout(files: Path) -> None:
    run = codestar(
        "check", str(files / "double.md"), str(files / "loop.py"), "--json", "--timeout", "0.3"
    )
    assert run.returncode == 1
    payload = json.loads(run.stdout)
    assert [o["verdict"] for o in payload["outcomes"]] == ["timeout", "timeout"]
    assert "seccomp" in payload["isolation"]["active"] + list(payload["isolation"]["inactive"])


def test_check_selects_public_tests_and_names_missing_problem(files: Path) -> None:
    run = codestar(
        "check", str(files / "problems.jsonl"), str(files / "good.py"),
        "--problem", "double", "--tests", "public", "--json",
    )  # fmt: skip
    assert json.loads(run.stdout)["total"] == 1
    missing = codestar("check", str(files / "problems.jsonl"), str(files / "good.py"))
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: ") and "--problem" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_grade_json_results_are_not_corrupted_by_programs(files: Path) -> None:
    functional = (
        "class Solution:\n    def add(self, a, b):\n        print('noise')\n        return a + b\n"
    )
    generations = [
        {"question_id": "double", "code_list": [
            (files / "good.py").read_text(), (files / "bad.py").read_text(),
            (files / "noisy.py").read_text(), "while True: pass",
        ]},
        {"question_id": "add", "code_list": [functional, "def add(a, b):\n    return a - b\n"]},
    ]  # fmt: skip
    (files / "gens.json").write_text(json.dumps(generations))
    run = codestar(
        "grade", "--problems", str(files / "problems.jsonl"),
        "--generations", str(files / "gens.json"), "--json", "--timeout", "0.5",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    payload = json.loads(run.stdout)
    assert payload["results"] == {"double": [True, False, False, False], "add": [True, False]}
    assert payload["pass@1"] == pytest.approx((1 / 4 + 1 / 2) / 2)
    assert "pass@4" in payload


def test_grade_reports_unknown_question_ids(files: Path) -> None:
    (files / "gens.json").write_text(json.dumps([{"question_id": "nope", "code_list": ["x"]}]))
    run = codestar(
        "grade",
        "--problems",
        str(files / "problems.jsonl"),
        "--generations",
        str(files / "gens.json"),
    )
    assert run.returncode == 2
    assert "nope" in run.stderr and "Traceback" not in run.stderr


def test_help_explains_every_command() -> None:
    for command in ("check", "grade"):
        run = codestar(command, "--help")
        assert run.returncode == 0 and "Example" in run.stdout
