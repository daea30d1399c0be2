"""Every command, every option at a bad value: one ``error:`` line, exit 2, no traceback.

The cases are built by introspecting each click command's parameters, so an option
added later is covered without touching this file: its bad value comes from its type
(a word for a number, a number below an `IntRange`'s minimum, an unknown choice, a
missing file...). A free-text option has no bad value by type; it needs an entry in
`BAD_TEXT`, and the test that checks coverage fails until it has one. `SEMANTIC` adds
values that are well-typed but wrong (``-n 0``, ``--workers 0``, an unwritable
``--run-dir``...).

Every other argument is valid and small (``-n 1 --rounds 0 --max-tokens 8``), so a
bad value that slipped through would end in a short run with another exit status, not
in a test that passes. The error line must also name the option or the bad value, so
that an unrelated error (say, absent model weights) cannot stand in for the right one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from codestar.cli.main import COMMANDS, cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "sum-of-two.json"

#: Bad values of free-text options, by (command, parameter name).
BAD_TEXT: dict[tuple[str, str], str] = {
    ("solve", "model"): "local:",
    ("solve", "judge_model"): "local:",
    ("solve", "input_model"): "local:",
    ("solve", "base_url"): "127.0.0.1:8000/v1",  # no scheme
    ("solve", "api_key"): "sk-for-the-embedded-model",  # the embedded model takes none
    ("solve", "problem_id"): "no-such-problem",
    ("check", "problem_id"): "no-such-problem",
    ("models", "base_url"): "ftp://127.0.0.1/v1",
    ("models", "api_key"): "sk-without-a-base-url",
    ("doctor", "model"): "local:",
    ("doctor", "base_url"): "http://",
    ("doctor", "api_key"): "sk-for-the-embedded-model",
    ("eval", "benchmark"): "no-such-benchmark",
    ("eval", "methods"): "no-such-method",
    ("eval", "model"): "local:",
    ("eval", "judge_model"): "local:",
    ("eval", "input_model"): "local:",
    ("eval", "base_url"): "127.0.0.1:8000/v1",
    ("eval", "api_key"): "sk-for-the-embedded-model",
    ("eval", "release"): "release_v99",
    ("eval", "start_date"): "yesterday",
    ("eval", "end_date"): "2024-13-01",
    ("eval", "difficulty"): "impossible",
    ("eval", "platform"): "nowhere",
    ("eval", "problem_ids"): "no-such-problem",
    ("grade", "problems_source"): "no-such-benchmark",
    ("grade", "ray_address"): "not-an-address",
    ("eval", "ray_address"): "not-an-address",
}

#: Well-typed values that are still wrong: (command, parameter, value, expected words).
SEMANTIC: list[tuple[str, str, str, str]] = [
    ("solve", "samples", "0", "samples"),
    ("solve", "rounds", "-1", "rounds"),
    ("solve", "max_tokens", "0", "max_tokens"),
    ("solve", "input_count", "0", "inputs"),
    ("solve", "timeout", "0", "timeout"),
    ("solve", "timeout", "nan", "timeout"),
    ("solve", "run_dir", "/proc/codestar-run", "/proc/codestar-run"),
    ("solve", "run_dir", "{file}/run", "not a directory"),
    ("solve", "out", "{file}/solution.py", "not a directory"),
    ("solve", "report_file", "{file}/solve.html", "not a directory"),
    ("solve", "kind", "functional", "functional"),
    ("solve", "max_cost", "0.5", "price"),  # a money budget without prices
    ("check", "timeout", "-1", "timeout"),
    ("check", "memory_mb", "0", "memory"),
    ("grade", "workers", "0", "--workers"),
    ("grade", "ks", "0", "-k"),
    ("grade", "ks", "-3", "-k"),
    ("grade", "timeout", "-1", "timeout"),
    ("grade", "memory_mb", "0", "memory"),
    ("eval", "run_dir", "/proc/codestar-run", "/proc/codestar-run"),
    ("eval", "run_dir", "{file}/run", "run directory"),
    ("eval", "max_cost", "0.5", "price"),
]


@dataclass(frozen=True)
class Case:
    command: str
    param: str
    value: str
    words: tuple[str, ...]  # the error line names one of these

    @property
    def id(self) -> str:
        return f"{self.command}-{self.param}={self.value}"


def command(name: str) -> click.Command:
    with click.Context(cli) as context:
        found = cli.get_command(context, name)
    assert found is not None
    return found


def editable(param: click.Parameter) -> bool:
    """Parameters that take a value (flags and --help have no bad value)."""
    if isinstance(param, click.Option) and (param.is_flag or param.count):
        return False
    return param.name not in ("help", "version")


def by_type(name: str, param: click.Parameter) -> str | None:
    """A value that the parameter's type refuses, or None for free text."""
    kind = param.type
    if isinstance(kind, click.Choice):
        return "no-such-choice"
    if isinstance(kind, click.IntRange | click.FloatRange) and kind.min is not None:
        return str(kind.min - 1)
    if isinstance(kind, click.types.IntParamType):
        return "seven"
    if isinstance(kind, click.types.FloatParamType):
        return "fast"
    if isinstance(kind, click.Path):
        if kind.exists:
            return "{tmp}/missing"
        if not kind.file_okay:
            return "{file}"
        if not kind.dir_okay:
            return "{tmp}"
    if (name, str(param.name)) in BAD_TEXT:
        return BAD_TEXT[name, str(param.name)]
    return None


def names_of(param: click.Parameter) -> tuple[str, ...]:
    words = [str(param.name), *param.opts]
    if isinstance(param, click.Argument):
        words.append(param.make_metavar(click.Context(cli)))
    return tuple(words)


def cases() -> list[Case]:
    found = []
    for name in COMMANDS:
        for param in command(name).params:
            if editable(param):
                value = by_type(name, param)
                if value is not None:
                    found.append(Case(name, str(param.name), value, (*names_of(param), value)))
    for name, param_name, value, words in SEMANTIC:
        found.append(Case(name, param_name, value, (words,)))
    return found


def test_every_option_of_every_command_has_a_bad_value() -> None:
    covered = {(case.command, case.param) for case in cases()}
    missing = [
        f"{name} {param.opts[0] if param.opts else param.name}"
        for name in COMMANDS
        for param in command(name).params
        if editable(param) and (name, param.name) not in covered
    ]
    assert not missing, f"add a bad value to BAD_TEXT for: {', '.join(missing)}"
    assert len(covered) >= 40  # solve, check, grade, models, doctor together


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("bad-values")
    program = tmp / "prog.py"
    program.write_text("a, b = map(int, input().split())\nprint(a + b)\n")
    question = json.loads(EXAMPLE.read_text())["question_id"]
    generations = tmp / "gens.json"
    generations.write_text(json.dumps([{"question_id": question, "code_list": ["print(8)"]}]))
    problems = tmp / "problems.jsonl"  # hidden tests, so that loading warns of nothing
    record = json.loads(EXAMPLE.read_text())
    record["private_test_cases"] = record["public_test_cases"]
    problems.write_text(json.dumps(record) + "\n")
    regular = tmp / "a-file"
    regular.write_text("")
    return {
        "tmp": str(tmp),
        "file": str(regular),
        "program": str(program),
        "generations": str(generations),
        "problems": str(problems),
    }


#: Valid values of every command's required parameters, and small budgets for a run.
def valid(name: str, files: dict[str, str]) -> dict[str, str]:
    return {
        "solve": {
            "problem_file": str(EXAMPLE),
            "samples": "1",
            "rounds": "0",
            "max_tokens": "8",
            "input_count": "1",
            "method": "zero-shot",
        },
        "check": {"problem_file": str(EXAMPLE), "program": files["program"]},
        "grade": {"problems_source": str(EXAMPLE), "generations_file": files["generations"]},
        "eval": {
            "benchmark": files["problems"],
            "samples": "1",
            "rounds": "0",
            "max_tokens": "8",
            "input_count": "1",
            "methods": "zero-shot",
            "run_dir": files["tmp"] + "/eval-run",
        },
    }.get(name, {})


def argv(case: Case, files: dict[str, str]) -> list[str]:
    values = {**valid(case.command, files), case.param: case.value.format(**files)}
    arguments, options = [], []
    for param in command(case.command).params:
        if param.name not in values:
            continue
        if isinstance(param, click.Argument):
            arguments.append(values[str(param.name)])
        else:
            options += [param.opts[0], values[str(param.name)]]
    return [case.command, *arguments, *options]


@pytest.mark.parametrize("case", cases(), ids=lambda case: case.id)
def test_a_bad_value_is_one_error_line_and_exit_2(
    case: Case, files: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    result = CliRunner().invoke(cli, argv(case, files))
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert any(word.lower() in lines[0].lower() for word in case.words), (lines[0], case.words)
    assert result.stdout == ""
