"""Candidates not lost for formatting: cut-off replies, the model's own tests, long
histories, context overflows. A scripted model and the real execution engine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from test_stages import TWICE

from codestar.errors import ContextLengthError
from codestar.execution.engine import Engine
from codestar.llm.scripted import ScriptedBackend
from codestar.llm.types import Completion, CompletionRequest
from codestar.pipeline.config import Models, SolveConfig
from codestar.pipeline.orchestrator import Run
from codestar.pipeline.stages import develop
from codestar.pipeline.trace import Candidate
from codestar.problems.model import Problem, ProblemKind, TestCase

ECHO = Problem(
    id="echo",
    statement="Print the input line.",
    kind=ProblemKind.STDIN,
    public_tests=(TestCase("hello\n", "hello\n"),),
)
RIGHT = "class Solution:\n    def twice(self, n: int) -> int:\n        return 2 * n\n"


def developed(
    engine: Engine,
    answer: Callable[[CompletionRequest], str | Completion],
    problem: Problem = TWICE,
    *,
    rounds: int = 0,
    **config: Any,
) -> tuple[Candidate, ScriptedBackend]:
    backend = ScriptedBackend(answer)
    run = Run(
        problem, method="test", models=Models(backend), engine=engine, config=SolveConfig(**config)
    )
    return asyncio.run(develop(run, 0, rounds=rounds)), backend


def test_a_reply_cut_after_a_closed_block_keeps_its_program(engine: Engine) -> None:
    text = f"```python\n{RIGHT}```\nThis works because doubling is"
    candidate, _ = developed(engine, lambda r: Completion(text=text, finish_reason="length"))
    (sample,) = candidate.rounds
    assert sample.failure is None and sample.finish_reason == "length" and candidate.passed
    assert any("cut at max_tokens" in note for note in sample.notes)


def test_a_reply_cut_inside_the_code_is_still_a_failed_round(engine: Engine) -> None:
    text = "```python\nclass Solution:\n    def twice(self, n: int) -> int:\n        return 2 *"
    candidate, _ = developed(engine, lambda r: Completion(text=text, finish_reason="length"))
    assert candidate.rounds[0].failure == "truncated" and candidate.code is None


def test_the_models_own_asserts_do_not_sink_a_right_function(engine: Engine) -> None:
    # A wrong assert and an input() demo at top level: run as written, loading fails.
    demo = "assert Solution().twice(2) == 5\nprint(Solution().twice(int(input())))"
    reply = f"```python\n{RIGHT}\n{demo}\n```"
    cleaned, _ = developed(engine, lambda r: reply)
    assert cleaned.passed
    (note,) = cleaned.rounds[0].notes
    assert note.startswith("sanitizer dropped: assert Solution().twice(2) == 5; print(")
    assert cleaned.rounds[0].to_dict()["notes"] == [note]
    raw, _ = developed(engine, lambda r: reply, sanitize=False)
    assert not raw.passed and raw.rounds[0].notes == ()


def test_stdin_programs_are_never_sanitized(engine: Engine) -> None:
    candidate, _ = developed(engine, lambda r: "```python\nprint(input())\n```", ECHO)
    assert candidate.passed and candidate.code == "print(input())"
    assert candidate.rounds[0].notes == ()


def test_a_long_history_drops_the_oldest_attempts_not_the_newest(engine: Engine) -> None:
    attempts = iter(
        [f"```python\n# attempt {i}\nprint('x' * {i})\n{'#' * 3000}\n```" for i in range(1, 6)]
    )
    candidate, backend = developed(
        engine, lambda r: next(attempts), ECHO, rounds=4, context_tokens=3000, max_tokens=1000
    )
    assert len(candidate.rounds) == 5
    last = backend.requests[-1].messages[-1].content
    assert "# attempt 4" in last and "# attempt 1" not in last
    assert "earlier attempt(s) left out for space" in last
    assert last.rstrip().endswith("```python code block.")  # the instruction survives


def test_a_context_overflow_ends_the_chain(engine: Engine) -> None:
    def answer(request: CompletionRequest) -> str:
        if request.stage == "debug":
            raise ContextLengthError("prompt too long")
        return "```python\nprint('no')\n```"

    candidate, backend = developed(engine, answer, ECHO, rounds=3)
    assert [r.failure for r in candidate.rounds] == [None, "context_length"]
    assert [r.stage for r in backend.requests] == ["generate", "debug"]


def test_the_short_prompt_variant_is_what_the_model_is_asked(engine: Engine) -> None:
    candidate, backend = developed(
        engine, lambda r: f"```python\n{RIGHT}```", prompt_variant="short"
    )
    assert candidate.passed
    assert "nothing else" in backend.requests[0].messages[-1].content
