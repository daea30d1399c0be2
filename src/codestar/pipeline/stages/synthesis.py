"""Test inputs for clustering (S*, majority vote), and whole tests (CodeT).

`synthesize_inputs` gathers inputs from three sources, so that clustering does not
depend on one lucky answer:

1. the input writer, asked once for ``config.inputs`` inputs at temperature 0; the
   parser keeps what parses (stdin: text blocks; functional: one JSON value per
   argument, checked against the entry point's parameters, and the calls of the entry
   point in any code the model wrote instead);
2. when fewer than 2 parsed (``config.input_retry``): for a stdin problem, the
   generator scripts the model wrote are run in the sandbox and what they print is an
   input; if that is still not enough, one retry with a shorter, stricter prompt
   (``inputs-retry``) at the sampling temperature;
3. mutants of the public tests' inputs (``config.mutated_inputs``), which need no model
   at all (`codestar.pipeline.mutation`).

Each input's source is recorded (``sources``). Nothing the model predicts about outputs
is used. `generate_tests` asks for whole input/expected-output tests for the
generated-tests baseline.

Malformed answers are dropped and counted, never raised: nothing the model writes can
crash a run. A prompt that overflows the context, or a budget that refuses the call,
means no model inputs (the mutants remain). Inputs on which most candidates crash are
discarded later, by clustering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codestar.pipeline.inputs import (
    MAX_INPUT_CHARS,
    ParsedInputs,
    generator_scripts,
    parse_generated_tests,
    parse_inputs,
    signature_parameters,
)
from codestar.pipeline.mutation import mutate_inputs
from codestar.pipeline.orchestrator import Event
from codestar.pipeline.prompts import render
from codestar.problems.model import Problem, ProblemKind, TestCase

if TYPE_CHECKING:
    from codestar.pipeline.orchestrator import Run


@dataclass(frozen=True, slots=True)
class Synthesized:
    """What the input writer answered (``completion``, and ``retry_completion`` to the
    retry prompt) and what could be used of it: ``inputs`` (S*) with their ``sources``
    (model, retry, script, mutation) or ``tests`` (generated-tests), and how many
    malformed ones were ``dropped``."""

    completion: str
    inputs: tuple[str, ...] = ()
    tests: tuple[TestCase, ...] = ()
    dropped: int = 0
    sources: tuple[str, ...] = ()
    retry_completion: str = ""


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


class _Collected:
    """Inputs in order of arrival, each once, with its source."""

    def __init__(self) -> None:
        self.inputs: list[str] = []
        self.sources: list[str] = []

    def add(self, texts: Sequence[str], source: str, limit: int | None = None) -> None:
        added = 0
        for text in texts:
            if text not in self.inputs and (limit is None or added < limit):
                self.inputs.append(text)
                self.sources.append(source)
                added += 1


async def synthesize_inputs(run: Run) -> Synthesized:
    """Test inputs for the problem from the model, its scripts, and mutation (no outputs)."""
    config = run.config
    count = config.inputs
    problem = run.problem
    collected = _Collected()
    dropped = 0
    messages = render("inputs", problem, count=count)
    completion = None
    if run.fits("inputs", messages):
        completion = await run.try_complete("input_writer", "inputs", messages, overflow_ok=True)
    first = completion.text if completion is not None else ""
    if completion is not None:
        parsed = _parse(run, first, count)
        collected.add(parsed.inputs, "model")
        dropped += parsed.dropped
    retry_text = ""
    if config.input_retry and len(collected.inputs) < 2 and run.stopped is None:
        collected.add(await _script_inputs(run, first), "script", count)
        retry = render("inputs-retry", problem, count=count)
        if len(collected.inputs) < 2 and run.fits("inputs", retry):
            retried = await run.try_complete(
                "input_writer",
                "inputs",
                retry,
                sample_index=1,
                temperature=max(config.temperature, 0.5),
                overflow_ok=True,
            )
            if retried is not None:
                retry_text = retried.text
                parsed = _parse(run, retry_text, count)
                collected.add(parsed.inputs, "retry")
                dropped += parsed.dropped
                collected.add(await _script_inputs(run, retry_text), "script", count)
    if config.mutated_inputs:
        mutants = mutate_inputs(problem, count=config.mutations, seed=config.seed)
        collected.add(mutants, "mutation")
    tally = {source: collected.sources.count(source) for source in dict.fromkeys(collected.sources)}
    described = ", ".join(f"{n} {source}" for source, n in tally.items()) or "none"
    run.emit(Event("inputs", f"{len(collected.inputs)} inputs ({described}), {dropped} dropped"))
    return Synthesized(
        first,
        inputs=tuple(collected.inputs),
        dropped=dropped,
        sources=tuple(collected.sources),
        retry_completion=retry_text,
    )


def _parse(run: Run, text: str, count: int) -> ParsedInputs:
    return parse_inputs(
        text,
        kind=run.problem.kind,
        limit=count,
        parameters=parameters_of(run.problem),
        entry_point=run.problem.entry_point,
    )


async def _script_inputs(run: Run, text: str) -> list[str]:
    """What the generator scripts in ``text`` print, for a stdin problem (each script's
    whole output is one input; a script that fails or prints nothing gives none)."""
    if run.problem.kind is not ProblemKind.STDIN or not text:
        return []
    scripts = generator_scripts(text)
    results = await run.execute_each(scripts, [TestCase("")])
    found = []
    for result in results:
        outcome = result.outcomes[0] if result.outcomes else None
        if (
            outcome is not None
            and outcome.verdict.ran_cleanly
            and outcome.output.strip()
            and len(outcome.output) <= MAX_INPUT_CHARS
        ):
            found.append(outcome.output.strip("\n") + "\n")
    return found


async def generate_tests(run: Run) -> Synthesized:
    """Input/expected-output tests written by the input writer (generated-tests)."""
    messages = render("tests", run.problem, count=run.config.inputs)
    completion = await run.try_complete("input_writer", "tests", messages, overflow_ok=True)
    if completion is None:
        return Synthesized("")
    parsed = parse_generated_tests(
        completion.text, kind=run.problem.kind, parameters=parameters_of(run.problem)
    )
    run.emit(Event("inputs", f"{len(parsed.tests)} tests, {parsed.dropped} dropped"))
    return Synthesized(completion.text, tests=parsed.tests, dropped=parsed.dropped)
