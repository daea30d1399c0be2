"""Real answers of the embedded 0.5B model (recorded in `fixtures/`), read as the
pipeline reads them: the formats a small model really writes must give inputs, and its
non-answers (a solution instead of inputs) must give none; and its judge answers, which
on HumanEval always named the first program shown, must decide nothing once the order is
swapped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_stages import within_run

from codestar.execution.engine import Engine
from codestar.llm.types import CompletionRequest
from codestar.pipeline.inputs import parse_inputs
from codestar.pipeline.judgement import parse_choice
from codestar.pipeline.stages import synthesize_inputs
from codestar.pipeline.stages.comparison import agreed_winner
from codestar.problems import load_problems
from codestar.problems.model import ProblemKind

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[1] / "examples"
RECORDED = json.loads((HERE / "fixtures" / "qwen-0.5b-answers.json").read_text())["answers"]
INPUTS = [a for a in RECORDED if a["stage"].startswith("inputs")]
JUDGE = [a for a in RECORDED if a["stage"] == "judge"]


@pytest.mark.parametrize("answer", INPUTS, ids=lambda a: f"{a['problem']}:{a['stage']}")
def test_recorded_input_answers_parse(answer: dict[str, Any]) -> None:
    parsed = parse_inputs(
        answer["text"],
        kind=ProblemKind(answer["kind"]),
        parameters=answer.get("parameters"),
        entry_point=answer.get("entry_point"),
    )
    assert list(parsed.inputs) == answer["expected_inputs"], answer["note"]


@pytest.mark.parametrize("answer", JUDGE, ids=lambda a: a["problem"])
def test_a_judge_that_always_names_the_first_program_decides_nothing(
    answer: dict[str, Any],
) -> None:
    # The two programs' outputs differ on the recorded inputs, yet the judge answered
    # 'A' in both orders: position, not evidence. Agreement across the swap is what
    # keeps such an answer from choosing a program.
    assert answer["first_outputs"] != answer["second_outputs"]
    answers = tuple(parse_choice(text) for text in answer["texts"])
    assert list(answers) == answer["expected_answers"]
    assert agreed_winner(0, 1, answers) is answer["expected_winner"]


def test_the_recorded_sum_of_two_answers_need_no_retry_now(engine: Engine) -> None:
    # Recorded before the '# Input N' split: the one block became one unusable input,
    # so a retry was asked (and the model answered with a solution). Now the first
    # answer gives both inputs and the retry is not needed.
    first, retry = (a["text"] for a in INPUTS if a["problem"].endswith("sum-of-two.json"))
    problem = load_problems(EXAMPLES / "sum-of-two.json").problems[0]

    def answer(request: CompletionRequest) -> str:
        return first if request.sample_index == 0 else retry

    parsed, backend = within_run(
        engine, answer, synthesize_inputs, problem, inputs=8, mutated_inputs=False
    )
    assert parsed.inputs == ("3 5\n", "-2 7\n") and len(backend.requests) == 1
