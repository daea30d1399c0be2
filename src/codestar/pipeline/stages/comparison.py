"""Pairwise judging: distinguish-and-judge two clusters (S*), or judge two programs from
their code alone (the llm-judge baseline).

Distinguish-and-judge, for clusters X and Y: one representative each; the input writer
is asked for inputs that would make the two programs disagree; both programs run on
them; the judge sees both programs with their *actual* outputs (or errors) on the inputs
where they disagree and says which is right. If none of the model's inputs separates
them, or fewer than ``config.inputs`` do, the clustering inputs on which they differ
are added (differential testing: the clustering inputs include the public inputs'
mutants, so the judge has real, differing outputs to look at whenever any input tells
the two apart; ``inputs_source`` says which kind it saw).

Prompts are budgeted: the observations are cut to the room the context leaves
(`format_observations` with ``budget_chars``); a prompt that still does not fit, or
that the model rejects as too long, makes the comparison undecided (or, for the
distinguish call, leaves only the clustering inputs), never a failed problem.

Position bias: the judge is asked twice, X shown as A and then Y shown as A, concurrently.
A win counts only when both answers agree; otherwise the comparison has no winner.
Memoizing per pair is the caller's business (`Run.memo`).

When a budget refuses a call, the comparison ends undecided (no winner) with whatever it
had gathered: the selection then treats the pair as not compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from codestar.execution.types import TestOutcome
from codestar.llm.types import Message
from codestar.pipeline.inputs import parse_inputs
from codestar.pipeline.judgement import Choice, parse_choice
from codestar.pipeline.orchestrator import Event
from codestar.pipeline.prompts import (
    CHARS_PER_TOKEN,
    Observation,
    ObservedRun,
    estimate_tokens,
    format_observations,
    render,
)
from codestar.pipeline.stages.clustering import Clustering, outcome_key
from codestar.pipeline.stages.synthesis import parameters_of
from codestar.pipeline.trace import Candidate, Comparison, TestReport
from codestar.problems.model import TestCase

if TYPE_CHECKING:
    from codestar.pipeline.orchestrator import Run


def agreed_winner(
    first: int, second: int, answers: tuple[Choice | None, Choice | None]
) -> int | None:
    """The winner when both orderings agree: ``first`` was A in the first answer and B
    in the second.

    >>> [agreed_winner(3, 5, answers) for answers in (("A", "B"), ("B", "A"), ("A", "A"))]
    [3, 5, None]
    """
    if answers == ("A", "B"):
        return first
    if answers == ("B", "A"):
        return second
    return None


def _differs(run: Run, a: TestOutcome, b: TestOutcome) -> bool:
    canonical = run.config.canonical_outputs
    kind = run.problem.kind
    return outcome_key(a, kind, canonical=canonical) != outcome_key(b, kind, canonical=canonical)


async def _judge_twice(
    run: Run,
    stage: Literal["judge", "judge-code"],
    code_a: str,
    code_b: str,
    observations: Sequence[Observation] | None,
) -> tuple[tuple[Choice | None, Choice | None], tuple[str, str]]:
    """Ask the judge with (a, b) and with (b, a) at once; parsed answers and raw texts."""

    def messages(first: str, second: str, swapped: bool) -> tuple[Message, ...]:
        if observations is None:
            return render(stage, run.problem, program_a=first, program_b=second)
        seen = [Observation(o.input, o.b, o.a) if swapped else o for o in observations]
        frame = render(stage, run.problem, program_a=first, program_b=second, observations="")
        room = (run.config.prompt_tokens - estimate_tokens(frame)) * CHARS_PER_TOKEN
        text = format_observations(seen, kind=run.problem.kind, budget_chars=max(room, 0))
        return render(stage, run.problem, program_a=first, program_b=second, observations=text)

    prompts = (messages(code_a, code_b, False), messages(code_b, code_a, True))
    if not all(run.fits("judge", prompt) for prompt in prompts):
        return (None, None), ("", "")
    straight, swapped = await run.gather(
        *(run.try_complete("judge", "judge", prompt, overflow_ok=True) for prompt in prompts)
    )
    if straight is None or swapped is None:  # a budget refused one: no agreement possible
        texts = (straight.text if straight else "", swapped.text if swapped else "")
        return (None, None), texts
    return (parse_choice(straight.text), parse_choice(swapped.text)), (straight.text, swapped.text)


async def compare_clusters(
    run: Run,
    first: int,
    second: int,
    candidates: Sequence[Candidate],
    clustering: Clustering,
) -> Comparison:
    """Distinguish-and-judge clusters ``first`` and ``second`` of ``clustering``."""
    cluster_a, cluster_b = clustering.clusters[first], clustering.clusters[second]
    rep_a, rep_b = cluster_a.representative, cluster_b.representative
    by_index = {c.index: c for c in candidates}
    code_a, code_b = by_index[rep_a].code, by_index[rep_b].code
    assert code_a is not None and code_b is not None
    count = run.config.inputs
    messages = render("distinguish", run.problem, program_a=code_a, program_b=code_b, count=count)
    completion = None
    if run.fits("distinguish", messages):
        completion = await run.try_complete(
            "input_writer", "distinguish", messages, overflow_ok=True
        )
    if completion is None and run.stopped is not None:
        run.emit(Event("compared", f"cluster {first} vs {second}: not compared (budget)"))
        return Comparison(first=first, second=second, representatives=(rep_a, rep_b))
    text = completion.text if completion is not None else ""
    parsed = parse_inputs(
        text,
        kind=run.problem.kind,
        limit=count,
        parameters=parameters_of(run.problem, code_a),
        entry_point=run.problem.entry_point,
    )
    tests = [TestCase(text) for text in parsed.inputs]
    result_a, result_b = await run.gather(run.execute(code_a, tests), run.execute(code_b, tests))
    shown = [
        (test.input, a, b)
        for test, a, b in zip(tests, result_a.outcomes, result_b.outcomes, strict=True)
        if _differs(run, a, b)
    ][:count]
    from_model = len(shown)
    pairs = zip(clustering.outcomes[rep_a], clustering.outcomes[rep_b], strict=True)
    already = {text for text, _, _ in shown}
    shown += [
        (text, a, b)
        for text, (a, b) in zip(clustering.inputs, pairs, strict=True)
        if _differs(run, a, b) and text not in already
    ][: max(count - from_model, 0)]
    source: Literal["model", "model+clustering", "clustering", "none"] = "none"
    if shown:
        source = (
            "model"
            if from_model == len(shown)
            else ("model+clustering" if from_model else "clustering")
        )
    observations = [
        Observation(text, ObservedRun.from_outcome(a), ObservedRun.from_outcome(b))
        for text, a, b in shown
    ]
    answers, texts = await _judge_twice(run, "judge", code_a, code_b, observations)
    winner = agreed_winner(first, second, answers)
    run.emit(Event("compared", f"cluster {first} vs {second}: winner {winner}"))
    return Comparison(
        first=first,
        second=second,
        representatives=(rep_a, rep_b),
        inputs=tuple(text for text, _, _ in shown),
        inputs_dropped=parsed.dropped,
        inputs_source=source,
        inputs_completion=text,
        first_outputs=tuple(TestReport.of(text, None, a) for text, a, _ in shown),
        second_outputs=tuple(TestReport.of(text, None, b) for text, _, b in shown),
        answers=answers,
        judgements=texts,
        winner=winner,
    )


async def judge_code(run: Run, first: Candidate, second: Candidate) -> Comparison:
    """Judge two candidates from their code alone (no execution), both orders."""
    assert first.code is not None and second.code is not None
    answers, texts = await _judge_twice(run, "judge-code", first.code, second.code, None)
    winner = agreed_winner(first.index, second.index, answers)
    run.emit(Event("compared", f"candidate {first.index} vs {second.index}: winner {winner}"))
    return Comparison(
        first=first.index,
        second=second.index,
        representatives=(first.index, second.index),
        answers=answers,
        judgements=texts,
        winner=winner,
    )
