"""Stage 1 of S*: sample a candidate, then debug it on the public tests.

A candidate is one chain: round 0 answers the generation prompt; each later round shows
the model *every* earlier round (its code and its result on each public test: input,
expected, actual output or error) and asks for a fix. The chain stops as soon as a round
passes every public test, or after ``rounds`` debug rounds.

A round whose answer held no extractable code, or overflowed the model's context, is
a failed round: it stays in the history (the next prompt says no code was found) and
the candidate keeps the program of its last round that had one. Nothing is ever
replaced by empty code. An answer cut off at ``max_tokens`` (``finish_reason ==
"length"``) still gives its program when the chosen block's fence was closed before
the cut (the round's notes say so); only a cut inside the code is a failed round
(``truncated``). After a context overflow the chain stops: a longer history cannot fit.

For functional problems the extracted code is sanitized before it runs
(``config.sanitize``, see `codestar.pipeline.sanitizer`): the model's own top-level
asserts, demo calls and ``input()`` lines are dropped, and the round's notes list them.
The debug history is budgeted to the context: the oldest attempts are left out first.

When a budget refuses a round's model call, the chain ends there: the candidate keeps
the rounds that finished (none at all if its sample was never drawn).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codestar.errors import ContextLengthError
from codestar.llm.types import Message, Stage
from codestar.pipeline.config import Role
from codestar.pipeline.extraction import extract_code
from codestar.pipeline.orchestrator import Event
from codestar.pipeline.prompts import (
    CHARS_PER_TOKEN,
    DebugRound,
    ObservedRun,
    TestFeedback,
    estimate_tokens,
    format_feedback,
)
from codestar.pipeline.sanitizer import sanitize
from codestar.pipeline.trace import Candidate, Round, RoundFailure, TestReport
from codestar.problems.model import ProblemKind

if TYPE_CHECKING:
    from collections.abc import Sequence

    from codestar.pipeline.orchestrator import Run


async def develop_all(run: Run, *, samples: int, rounds: int) -> tuple[Candidate, ...]:
    """``samples`` independent candidates, each debugged up to ``rounds`` rounds, at once."""
    return tuple(
        await run.gather(*(develop(run, index, rounds=rounds) for index in range(samples)))
    )


async def develop(run: Run, index: int, *, rounds: int) -> Candidate:
    """Candidate ``index``: its sample, then debug rounds until the public tests pass."""
    sample = await _attempt(run, index, 0, run.render("generate"), "generate")
    if sample is None:
        return Candidate(index, ())
    history = [sample]
    run.emit(Event("sampled", candidate=index, passed=sample.passed))
    for number in range(1, rounds + 1):
        if Candidate(index, tuple(history)).passed or history[-1].failure == "context_length":
            break
        frame = run.render("debug", history="")
        room = (run.config.prompt_tokens - estimate_tokens(frame)) * CHARS_PER_TOKEN
        feedback = format_feedback(
            _as_debug_rounds(history), kind=run.problem.kind, budget_chars=max(room, 1000)
        )
        messages = run.render("debug", history=feedback)
        fixed = await _attempt(run, index, number, messages, "debug")
        if fixed is None:
            break
        history.append(fixed)
        run.emit(Event("debugged", candidate=index, passed=fixed.passed))
    return Candidate(index, tuple(history))


async def _attempt(
    run: Run, index: int, number: int, messages: Sequence[Message], stage: Stage
) -> Round | None:
    """Ask for a program, extract it, and run it on the public tests (``None``: a budget
    refused the call)."""
    role: Role = "generator" if stage == "generate" else "debugger"
    try:
        completion = await run.try_complete(
            role, stage, messages, sample_index=index, temperature=run.config.temperature
        )
    except ContextLengthError as error:
        # The history outgrew the model: this candidate cannot be debugged further, but
        # that is a fact about the candidate, not a broken tool.
        return Round(
            index=number,
            completion=str(error),
            finish_reason=None,
            code=None,
            failure="context_length",
        )
    if completion is None:
        return None
    failure: RoundFailure | None = None
    code: str | None = None
    notes: list[str] = []
    found = extract_code(
        completion.text, kind=run.problem.kind, entry_point=run.problem.entry_point
    )
    if completion.truncated and (found is None or found.truncated):
        failure = "truncated"
    elif found is None:
        failure = "no_code"
    else:
        code = found.code
        if completion.truncated:
            notes.append("the reply was cut at max_tokens after a closed code block; kept it")
        if "joined" in found.reason:
            notes.append(f"extraction: {found.reason}")
        if run.config.sanitize and run.problem.kind is ProblemKind.FUNCTIONAL:
            cleaned = sanitize(code)
            if cleaned.dropped:
                code = cleaned.code
                notes.append("sanitizer dropped: " + "; ".join(cleaned.dropped))
    tests: tuple[TestReport, ...] = ()
    if code is not None:
        public = run.problem.public_tests
        result = await run.execute(code, public)
        tests = tuple(
            TestReport.of(test.input, test.expected, outcome)
            for test, outcome in zip(public, result.outcomes, strict=True)
        )
    return Round(
        index=number,
        completion=completion.text,
        finish_reason=completion.finish_reason,
        code=code,
        failure=failure,
        tests=tests,
        usage=completion.usage,
        notes=tuple(notes),
    )


def _as_debug_rounds(history: Sequence[Round]) -> tuple[DebugRound, ...]:
    return tuple(
        DebugRound(
            code=r.code or "",
            tests=tuple(
                TestFeedback(t.input, t.expected, ObservedRun(t.verdict, t.output, t.error))
                for t in r.tests
            ),
        )
        for r in history
    )
