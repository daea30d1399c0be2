"""Inputs that do not depend on one lucky answer: retry, salvage, scripts, mutants.

A scripted model and the real execution engine (generator scripts run in the sandbox).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from codestar.errors import ContextLengthError
from codestar.execution.engine import Engine
from codestar.llm.scripted import ScriptedBackend
from codestar.llm.types import CompletionRequest
from codestar.pipeline.config import Models, SolveConfig
from codestar.pipeline.orchestrator import Run
from codestar.pipeline.stages import synthesize_inputs
from codestar.pipeline.stages.synthesis import Synthesized
from codestar.problems.model import Problem, ProblemKind, TestCase

SUM = Problem(
    id="sum",
    statement="Read n and then n integers; print their sum. 1 <= n <= 5",
    kind=ProblemKind.STDIN,
    public_tests=(TestCase("3\n1 2 3\n", "6\n"),),
)
TWO_SUM = Problem(
    id="two-sum",
    statement="Return the indices of the two numbers that add up to target.",
    kind=ProblemKind.FUNCTIONAL,
    entry_point="twoSum",
    starter_code=(
        "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n"
    ),
    public_tests=(TestCase("[2, 7, 11, 15]\n9", "[0, 1]"),),
)
A_PROGRAM = "```python\ndef solve():\n    n = int(input())\n    print(n)\nsolve()\n```"


def synthesized(
    engine: Engine,
    answer: Callable[[CompletionRequest], str],
    problem: Problem = SUM,
    **config: Any,
) -> tuple[Synthesized, ScriptedBackend, Run]:
    backend = ScriptedBackend(answer)
    settings = SolveConfig(**{"inputs": 4, **config})
    run = Run(problem, method="test", models=Models(backend), engine=engine, config=settings)
    return asyncio.run(synthesize_inputs(run)), backend, run


def test_a_program_instead_of_inputs_gets_one_stricter_retry(engine: Engine) -> None:
    def answer(request: CompletionRequest) -> str:
        if request.sample_index == 0:
            return A_PROGRAM
        return "```\n2\n5 6\n```\n```\n1\n-4\n```"

    parsed, backend, _ = synthesized(engine, answer, mutated_inputs=False)
    assert parsed.inputs == ("2\n5 6\n", "1\n-4\n") and parsed.sources == ("retry", "retry")
    first, retry = backend.requests
    assert (first.params.temperature, retry.params.temperature) == (0.0, 0.7)
    assert retry.sample_index == 1 and retry.stage == "inputs"
    assert "You never write code." in retry.messages[0].content
    assert len(retry.messages[-1].content) < len(first.messages[-1].content)
    assert parsed.completion == A_PROGRAM and parsed.retry_completion.startswith("```\n2")


def test_enough_inputs_means_no_retry(engine: Engine) -> None:
    parsed, backend, _ = synthesized(
        engine, lambda r: "```\n1\n5\n```\n```\n2\n1 1\n```", mutated_inputs=False
    )
    assert len(parsed.inputs) == 2 and len(backend.requests) == 1


def test_no_retry_when_switched_off(engine: Engine) -> None:
    parsed, backend, _ = synthesized(
        engine, lambda r: A_PROGRAM, mutated_inputs=False, input_retry=False
    )
    assert parsed.inputs == () and len(backend.requests) == 1


def test_a_generator_script_is_run_for_its_output(engine: Engine) -> None:
    script = "```python\nprint(4)\nprint(' '.join(str(i) for i in range(4)))\n```"
    parsed, backend, _ = synthesized(
        engine, lambda r: script if r.sample_index == 0 else "```\n1\n9\n```", mutated_inputs=False
    )
    assert parsed.inputs == ("4\n0 1 2 3\n", "1\n9\n")
    assert parsed.sources == ("script", "retry") and len(backend.requests) == 2


def test_calls_in_code_give_functional_inputs(engine: Engine) -> None:
    answer = (
        "```python\nsol = Solution()\nprint(sol.twoSum([3, 2, 4], 6))\n"
        "assert Solution().twoSum(nums=[3, 3], target=6) == [0, 1]\n```"
    )
    parsed, backend, _ = synthesized(engine, lambda r: answer, TWO_SUM, mutated_inputs=False)
    assert parsed.inputs == ("[3, 2, 4]\n6", "[3, 3]\n6") and parsed.sources == ("model",) * 2
    assert len(backend.requests) == 1  # two inputs: no retry


def test_mutants_join_the_model_inputs(engine: Engine) -> None:
    parsed, _, _ = synthesized(engine, lambda r: "```\n1\n5\n```\n```\n2\n1 1\n```", mutations=5)
    assert parsed.sources == ("model", "model") + ("mutation",) * 5
    assert len(set(parsed.inputs)) == 7 and "3\n1 2 3\n" not in parsed.inputs


def test_an_overflowing_inputs_prompt_leaves_the_mutants(engine: Engine) -> None:
    def answer(request: CompletionRequest) -> str:
        raise ContextLengthError("prompt too long")

    parsed, _, run = synthesized(engine, answer, mutations=3)
    assert parsed.sources == ("mutation",) * 3 and run.overflows == ["inputs", "inputs"]


def test_a_prompt_estimated_too_long_is_not_sent(engine: Engine) -> None:
    long = Problem(
        id="long", statement="x" * 6000, kind=ProblemKind.STDIN, public_tests=SUM.public_tests
    )
    parsed, backend, run = synthesized(engine, lambda r: "", long, context_tokens=1024)
    assert backend.requests == [] and run.overflows == ["inputs", "inputs"]
    assert parsed.inputs and set(parsed.sources) == {"mutation"}
