"""The model writes tests for the problem: inputs only (S*), or inputs with outputs (CodeT).

`synthesize_inputs` asks the input writer for ``config.inputs`` inputs and keeps the ones
that parse (stdin: text blocks; functional: one JSON value per argument, checked against
the entry point's parameters); nothing it predicts about outputs is used. `generate_tests`
asks for whole input/expected-output tests for the generated-tests baseline.

Malformed answers are dropped and counted, never raised: nothing the model writes can
crash a run. Inputs on which every candidate crashes are discarded later, by clustering.
When a budget refuses the call, there are no inputs (or tests) at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from codestar.pipeline.inputs import (
    parse_generated_tests,
    parse_inputs,
    signature_parameters,
)
from codestar.pipeline.orchestrator import Event
from codestar.pipeline.prompts import render
from codestar.problems.model import Problem, ProblemKind, TestCase

if TYPE_CHECKING:
    from codestar.pipeline.orchestrator import Run


@dataclass(frozen=True, slots=True)
class Synthesized:
    """What the input writer answered (``completion``) and what could be used of it:
    ``inputs`` (S*) or ``tests`` (generated-tests), and how many were ``dropped``."""

    completion: str
    inputs: tuple[str, ...] = ()
    tests: tuple[TestCase, ...] = ()
    dropped: int = 0


def parameters_of(problem: Problem, code: str | None = None) -> tuple[str, ...] | None:
    """The entry point's parameter names, from the starter code, else from ``code``
    (``None`` for stdin problems or when neither declares it)."""
    if problem.kind is not ProblemKind.FUNCTIONAL or not problem.entry_point:
        return None
    for source in (problem.starter_code, code or ""):
        if source.strip():
            found = signature_parameters(source, problem.entry_point)
            if found is not None:
                return found
    return None


async def synthesize_inputs(run: Run) -> Synthesized:
    """Test inputs for the problem, written by the input writer (no outputs)."""
    count = run.config.inputs
    messages = render("inputs", run.problem, count=count)
    completion = await run.try_complete("input_writer", "inputs", messages)
    if completion is None:
        return Synthesized("")
    parsed = parse_inputs(
        completion.text,
        kind=run.problem.kind,
        limit=count,
        parameters=parameters_of(run.problem),
    )
    run.emit(Event("inputs", f"{len(parsed.inputs)} inputs, {parsed.dropped} dropped"))
    return Synthesized(completion.text, inputs=parsed.inputs, dropped=parsed.dropped)


async def generate_tests(run: Run) -> Synthesized:
    """Input/expected-output tests written by the input writer (generated-tests)."""
    messages = render("tests", run.problem, count=run.config.inputs)
    completion = await run.try_complete("input_writer", "tests", messages)
    if completion is None:
        return Synthesized("")
    parsed = parse_generated_tests(
        completion.text, kind=run.problem.kind, parameters=parameters_of(run.problem)
    )
    run.emit(Event("inputs", f"{len(parsed.tests)} tests, {parsed.dropped} dropped"))
    return Synthesized(completion.text, tests=parsed.tests, dropped=parsed.dropped)
