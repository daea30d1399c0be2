"""Prompt templates: every stage renders for both kinds, fields are checked, output is capped."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

from codestar.errors import ConfigError
from codestar.execution.types import TestOutcome, Verdict
from codestar.pipeline.config import PROMPT_VARIANTS, SolveConfig
from codestar.pipeline.prompts import (
    FIELD_CHARS,
    STAGES,
    DebugRound,
    Observation,
    ObservedRun,
    PromptSet,
    TestFeedback,
    format_feedback,
    format_observations,
    problem_fields,
    render,
    truncate,
    variant,
)
from codestar.problems.model import Problem, ProblemKind, TestCase

STDIN_PROBLEM = Problem(
    id="abc001_a",
    statement="Read N and print N * 2. The price is $5 {not a field}.",
    kind=ProblemKind.STDIN,
    public_tests=(TestCase("3\n", "6\n"),),
)
FUNCTIONAL_PROBLEM = Problem(
    id="two-sum",
    statement="Return indices of the two numbers adding up to target.",
    kind=ProblemKind.FUNCTIONAL,
    starter_code=(
        "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n"
    ),
    entry_point="twoSum",
    public_tests=(TestCase("[2, 7, 11, 15]\n9", "[0, 1]"),),
)
PLAIN_FUNCTION_PROBLEM = Problem(
    id="add",
    statement="Add two numbers.",
    kind=ProblemKind.FUNCTIONAL,
    entry_point="add",
)
PROBLEMS = [STDIN_PROBLEM, FUNCTIONAL_PROBLEM, PLAIN_FUNCTION_PROBLEM]

SAMPLE_FIELDS: dict[str, str | int] = {
    "history": "## Attempt 1\n(history)",
    "count": 5,
    "program_a": "print('A')",
    "program_b": "print('B')",
    "observations": "## Input 1\n(observations)",
}


def _fields_for(stage: str) -> dict[str, str | int]:
    return {name: SAMPLE_FIELDS[name] for name in PromptSet().fields(stage)}


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.id)
@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_renders_for_every_kind(stage: str, problem: Problem) -> None:
    messages = render(stage, problem, **_fields_for(stage))
    assert [m.role for m in messages] == ["system", "user"]
    user = messages[-1].content
    assert problem.statement in user
    assert "$" not in user.replace("$5", "")  # no placeholder left behind
    for name, value in _fields_for(stage).items():
        assert str(value) in user, name
    if problem.kind is ProblemKind.FUNCTIONAL:
        assert problem.entry_point is not None and problem.entry_point in user
    if stage in ("generate", "debug") and problem is FUNCTIONAL_PROBLEM:
        assert problem.starter_code.rstrip() in user
        assert "Solution().twoSum(...)" in user


def test_stage_fields_are_what_the_pipeline_fills() -> None:
    prompts = PromptSet()
    assert {stage: prompts.fields(stage) for stage in STAGES} == {
        "generate": frozenset(),
        "debug": {"history"},
        "inputs": {"count"},
        "inputs-retry": {"count"},
        "distinguish": {"program_a", "program_b", "count"},
        "judge": {"program_a", "program_b", "observations"},
        "judge-code": {"program_a", "program_b"},
        "tests": {"count"},
    }


def test_judge_prompts_ask_for_the_final_answer_line() -> None:
    for stage in ("judge", "judge-code"):
        for problem in PROBLEMS:
            user = render(stage, problem, **_fields_for(stage))[-1].content
            assert '"Answer: A" or "Answer: B"' in user


def test_functional_inputs_prompt_names_the_format_and_shows_an_example() -> None:
    user = render("inputs", FUNCTIONAL_PROBLEM, count=4)[-1].content
    assert "one JSON value per argument" in user
    assert "[2, 7, 11, 15]\n9" in user
    assert "Write 4 different test inputs" in user


def test_functional_tests_prompt_shows_an_assert_from_the_public_test() -> None:
    user = render("tests", FUNCTIONAL_PROBLEM, count=3)[-1].content
    assert "assert Solution().twoSum([2, 7, 11, 15], 9) == [0, 1]" in user
    plain = render("tests", PLAIN_FUNCTION_PROBLEM, count=3)[-1].content
    assert "assert add(<arguments>) == <expected value>" in plain


def test_missing_field_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="needs field"):
        render("judge", STDIN_PROBLEM, program_a="x", program_b="y")


def test_unknown_field_is_a_config_error_naming_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="no field") as raised:
        render("inputs", STDIN_PROBLEM, count=3, cuont=3)
    assert raised.value.hint is not None and "count" in raised.value.hint


def test_unknown_stage_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown prompt stage"):
        render("summarize", STDIN_PROBLEM)


def test_override_directory_replaces_one_template(tmp_path: Path) -> None:
    (tmp_path / "generate.stdin.txt").write_text("[user]\nSolve: $statement ($title)\n")
    prompts = PromptSet(tmp_path)
    messages = prompts.render("generate", STDIN_PROBLEM)
    assert [m.role for m in messages] == ["user"]
    assert messages[0].content.startswith("Solve: Read N")
    assert prompts.render("inputs", STDIN_PROBLEM, count=2)[0].role == "system"  # packaged


@pytest.mark.parametrize(
    "text", ["no section marker\n$statement", "[user]\n$statement\n[system]\nlast", "[user]\n${"]
)
def test_malformed_templates_are_config_errors(tmp_path: Path, text: str) -> None:
    (tmp_path / "generate.txt").write_text(text)
    with pytest.raises(ConfigError):
        PromptSet(tmp_path).render("generate", STDIN_PROBLEM)


def test_truncate_marks_the_cut() -> None:
    assert truncate("x" * 10, 10) == "x" * 10
    assert truncate("x" * 11, 10) == "x" * 10 + "... (truncated)"


def test_feedback_shows_code_and_failures_and_caps_each_output() -> None:
    huge = "7\n" * 5_000
    rounds = [
        DebugRound(
            code="print(int(input()) * 3)",
            tests=(
                TestFeedback("3\n", "6\n", ObservedRun(Verdict.WRONG_ANSWER, output="9\n")),
                TestFeedback("1\n", "2\n", ObservedRun(Verdict.PASSED, output="2\n")),
                TestFeedback("5\n", "10\n", ObservedRun(Verdict.WRONG_ANSWER, output=huge)),
            ),
        ),
        DebugRound(
            code="print(1/0)",
            tests=(
                TestFeedback(
                    "3\n",
                    "6\n",
                    ObservedRun(Verdict.RUNTIME_ERROR, error="ZeroDivisionError: division by zero"),
                ),
                TestFeedback("4\n", "8\n", ObservedRun(Verdict.TIMEOUT, error="after 2.0 s")),
            ),
        ),
        DebugRound(code=""),
    ]
    text = format_feedback(rounds)
    assert text.index("## Attempt 1") < text.index("## Attempt 2") < text.index("## Attempt 3")
    assert "print(int(input()) * 3)" in text and "print(1/0)" in text
    assert "Test 1: wrong answer." in text
    assert "Test 2: passed." in text
    assert "Expected output:\n```\n6\n```" in text
    assert "Actual output:\n```\n9\n```" in text
    assert "runtime error: ZeroDivisionError: division by zero" in text
    assert "time limit exceeded: after 2.0 s" in text
    assert "(no code found)" in text
    assert "... (truncated)" in text
    assert len(text) < 3 * FIELD_CHARS + 1_000


def test_feedback_from_engine_outcomes_for_functional_problems() -> None:
    outcome = TestOutcome(verdict=Verdict.WRONG_ANSWER, output="[1, 0]")
    feedback = TestFeedback.from_outcome(FUNCTIONAL_PROBLEM.public_tests[0], outcome)
    text = format_feedback(
        [DebugRound("class Solution: ...", (feedback,))], kind=ProblemKind.FUNCTIONAL
    )
    assert "Arguments (one JSON value per line):\n```\n[2, 7, 11, 15]\n9\n```" in text
    assert "Expected return value:\n```\n[0, 1]\n```" in text
    assert "Actual return value:\n```\n[1, 0]\n```" in text


def test_observations_show_both_real_outputs_and_errors() -> None:
    seen = [
        Observation(
            "2\n", ObservedRun(Verdict.COMPLETED, "4\n"), ObservedRun(Verdict.COMPLETED, "")
        ),
        Observation(
            "0\n",
            ObservedRun(Verdict.COMPLETED, "0\n"),
            ObservedRun(Verdict.RUNTIME_ERROR, "partial\n", "IndexError: list index out of range"),
        ),
    ]
    text = format_observations(seen)
    assert "## Input 1\nInput:\n```\n2\n```\nProgram A output:\n```\n4\n```" in text
    assert "Program B output:\n```\n(empty)\n```" in text
    assert "Program B output: runtime error: IndexError: list index out of range" in text
    assert "It printed before stopping:\n```\npartial\n```" in text


def test_outputs_holding_fences_do_not_break_the_block() -> None:
    run = ObservedRun(Verdict.COMPLETED, "```\nhi\n```")
    text = format_observations([Observation("x", run, run)])
    assert "````\n```\nhi\n```\n````" in text


def test_problem_fields_for_stdin_have_no_functional_parts() -> None:
    fields = problem_fields(STDIN_PROBLEM)
    assert fields["call"] == "" and fields["starter"] == "" and fields["example_test"] == ""
    assert fields["example_input"] == "For example, this is a valid input:\n```\n3\n```"
    assert problem_fields(PLAIN_FUNCTION_PROBLEM)["starter"] == "Define a function named `add`."


def test_code_in_the_history_is_not_cut_at_the_output_cap() -> None:
    code = "\n".join(f"x{i} = {i}" for i in range(600))  # about 5,000 characters
    assert len(code) > FIELD_CHARS
    feedback = TestFeedback("1\n", "2\n", ObservedRun(Verdict.WRONG_ANSWER, "3\n" * 2_000))
    text = format_feedback([DebugRound(code, (feedback,))])
    assert code in text
    assert text.count("... (truncated)") == 1  # the output only


def test_field_chars_tightens_the_cap() -> None:
    seen = [
        Observation(
            "1\n" * 100, ObservedRun(Verdict.COMPLETED, "9" * 100), ObservedRun(Verdict.TIMEOUT)
        )
    ]
    text = format_observations(seen, field_chars=10)
    assert "1\n1\n1\n1\n1\n... (truncated)" in text
    assert "9" * 10 + "... (truncated)" in text
    assert "Program B output: time limit exceeded" in text


def test_unreadable_override_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "judge.txt").write_bytes(b"[user]\n\xff\xfe not utf-8 $statement")
    with pytest.raises(ConfigError, match="cannot read prompt template"):
        PromptSet(tmp_path).render("judge", STDIN_PROBLEM, program_a="a", program_b="b")


@pytest.mark.parametrize(
    "module",
    [
        "codestar.pipeline.prompts",
        "codestar.pipeline.extraction",
        "codestar.pipeline.inputs",
        "codestar.pipeline.arguments",
        "codestar.pipeline.judgement",
    ],
)
def test_docstring_examples_of_the_parsing_and_prompting_layer_hold(module: str) -> None:
    results = doctest.testmod(importlib.import_module(module))
    assert results.attempted > 0
    assert results.failed == 0


@pytest.mark.parametrize("name", PROMPT_VARIANTS)
@pytest.mark.parametrize("stage", ["generate", "debug"])
def test_every_prompt_variant_renders_for_both_kinds(name: str, stage: str) -> None:
    fields = {"history": "## Attempt 1\n(no code found)"} if stage == "debug" else {}
    for problem in (STDIN_PROBLEM, FUNCTIONAL_PROBLEM):
        messages = variant(name).render(stage, problem, **fields)
        assert [m.role for m in messages] == ["system", "user"]
        assert problem.statement.strip() in messages[-1].content


def test_the_short_variant_is_shorter_and_names_the_call() -> None:
    short = variant("short").render("generate", FUNCTIONAL_PROBLEM)[-1].content
    default = render("generate", FUNCTIONAL_PROBLEM)[-1].content
    assert len(short) < len(default) and "nothing else" in short
    assert problem_fields(FUNCTIONAL_PROBLEM)["call"] in short


def test_an_unknown_variant_is_refused() -> None:
    with pytest.raises(ConfigError, match="prompt variant"):
        SolveConfig(prompt_variant="tiny")
    with pytest.raises(ConfigError, match="no packaged prompt variant"):
        variant("tiny")
