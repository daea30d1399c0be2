"""Each stage on its own: a scripted model, the real execution engine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import pytest

from codestar.errors import ContextLengthError
from codestar.execution.engine import Engine
from codestar.execution.types import Verdict
from codestar.llm.scripted import ScriptedBackend
from codestar.llm.types import Completion, CompletionRequest, Usage
from codestar.pipeline.config import Models, SolveConfig
from codestar.pipeline.orchestrator import Run
from codestar.pipeline.stages import (
    cluster,
    compare_clusters,
    develop,
    develop_all,
    synthesize_inputs,
)
from codestar.pipeline.stages.comparison import agreed_winner
from codestar.pipeline.trace import Candidate, Round
from codestar.problems.model import Problem, ProblemKind, TestCase

T = TypeVar("T")

DOUBLE = Problem(
    id="double",
    statement="Read an integer n and print 2*n.",
    kind=ProblemKind.STDIN,
    public_tests=(TestCase("3\n", "6\n"), TestCase("-1\n", "-2\n")),
)
TWICE = Problem(
    id="twice",
    statement="Return twice the given integer.",
    kind=ProblemKind.FUNCTIONAL,
    entry_point="twice",
    starter_code="class Solution:\n    def twice(self, n: int) -> int:\n        ",
    public_tests=(TestCase("3", "6"),),
)


def fenced(code: str) -> str:
    return f"```python\n{code}```"


def within_run(
    engine: Engine,
    answer: Callable[[CompletionRequest], str | Completion],
    body: Callable[[Run], Any],
    problem: Problem = DOUBLE,
    **config: Any,
) -> tuple[Any, ScriptedBackend]:
    backend = ScriptedBackend(answer)
    run = Run(
        problem,
        method="test",
        models=Models(backend),
        engine=engine,
        config=SolveConfig(**config),
    )

    async def go() -> Any:
        return await body(run)

    return asyncio.run(go()), backend


def test_samples_are_independent_requests_with_distinct_indices(engine: Engine) -> None:
    candidates, backend = within_run(
        engine,
        lambda request: fenced("print(2 * int(input()))\n"),
        lambda run: develop_all(run, samples=4, rounds=2),
    )
    assert [c.index for c in candidates] == [0, 1, 2, 3]
    assert sorted(r.sample_index for r in backend.requests) == [0, 1, 2, 3]
    assert {r.params.temperature for r in backend.requests} == {0.7}
    assert len({r.params.seed for r in backend.requests}) == 4
    # Every sample passes at once: no debug round is asked for.
    assert all(len(c.rounds) == 1 and c.passed for c in candidates)


def test_debug_shows_the_full_history_and_stops_when_tests_pass(engine: Engine) -> None:
    answers = iter(
        [
            fenced("print(int(input()) + 3)\n"),  # passes 3 -> 6 only
            fenced("print(int(input()) ** 2)\n"),  # fails both
            fenced("print(2 * int(input()))\n"),  # right
        ]
    )
    candidate, backend = within_run(
        engine, lambda request: next(answers), lambda run: develop(run, 0, rounds=5)
    )
    assert [r.index for r in candidate.rounds] == [0, 1, 2] and candidate.passed
    assert [r.passed_count for r in candidate.rounds] == [1, 0, 2]
    assert [r.stage for r in backend.requests] == ["generate", "debug", "debug"]
    last_prompt = backend.requests[-1].messages[-1].content
    assert "int(input()) + 3" in last_prompt and "int(input()) ** 2" in last_prompt
    assert "Attempt 1" in last_prompt and "Attempt 2" in last_prompt
    # The failing test shows its input, the expected and the actual output.
    assert "-1" in last_prompt and "-2" in last_prompt and "2" in last_prompt


def test_failed_later_rounds_never_lose_the_earlier_program(engine: Engine) -> None:
    answers = iter(
        [
            Completion(text=fenced("print(int(input()) + 3)\n"), usage=Usage(5, 5, 1)),
            Completion(text="```python\nprint(2 * int(inp", finish_reason="length"),
            Completion(text="Sorry, I do not know."),
        ]
    )
    candidate, backend = within_run(
        engine, lambda request: next(answers), lambda run: develop(run, 0, rounds=2)
    )
    first, cut, prose = candidate.rounds
    assert (cut.failure, cut.code, cut.finish_reason) == ("truncated", None, "length")
    assert (prose.failure, prose.code) == ("no_code", None)
    assert candidate.code == first.code == "print(int(input()) + 3)"
    assert candidate.final is first and candidate.passed_count == 1
    last_prompt = backend.requests[-1].messages[-1].content
    assert "int(input()) + 3" in last_prompt and "no code found" in last_prompt


def test_a_context_overflow_is_a_failed_round_not_a_crash(engine: Engine) -> None:
    def answer(request: CompletionRequest) -> str:
        if request.stage == "debug":
            raise ContextLengthError("prompt too long")
        return fenced("print(0)\n")

    candidate, _ = within_run(engine, answer, lambda run: develop(run, 0, rounds=1))
    assert candidate.rounds[1].failure == "context_length"
    assert candidate.code == "print(0)"


def test_functional_candidates_run_through_the_entry_point(engine: Engine) -> None:
    body = "class Solution:\n    def twice(self, n: int) -> int:\n        return {}\n"
    answers = iter([fenced(body.format("n + 2")), fenced(body.format("2 * n"))])
    candidate, backend = within_run(
        engine, lambda request: next(answers), lambda run: develop(run, 0, rounds=1), TWICE
    )
    assert [r.passed for r in candidate.rounds] == [False, True]
    assert candidate.rounds[0].tests[0].output.strip() == "5"
    debug_prompt = backend.requests[1].messages[-1].content
    assert "Solution().twice(...)" in debug_prompt and "return n + 2" in debug_prompt


def test_synthesized_inputs_drop_malformed_ones(engine: Engine) -> None:
    text = "```\nhello\n```\n```\n5\n```\n```\n1\n2\n```\n```\n-4\n```"
    parsed, backend = within_run(
        engine, lambda request: text, synthesize_inputs, TWICE, inputs=5, mutated_inputs=False
    )
    assert parsed.inputs == ("5", "-4") and parsed.dropped == 2
    assert parsed.sources == ("model", "model")
    assert backend.requests[0].stage == "inputs" and backend.requests[0].params.temperature == 0


def _candidate(index: int, code: str) -> Candidate:
    return Candidate(index, (Round(index=0, completion="", finish_reason="stop", code=code),))


def test_cluster_groups_by_outputs_and_discards_inputs_everyone_crashes_on(
    engine: Engine,
) -> None:
    codes = [
        "print(2 * int(input()))\n",
        "n = int(input())\nprint(n + n)\n",
        "print(abs(2 * int(input())))\n",
        "n = int(input())\nprint(2 * n if n else 1 // n)\n",
    ]
    candidates = [_candidate(i, c) for i, c in enumerate(codes)]
    clustering, _ = within_run(
        engine,
        lambda request: "",
        lambda run: cluster(run, candidates, ["2\n", "-3\n", "x\n", "0\n"]),
    )
    assert clustering.inputs == ("2\n", "-3\n", "0\n") and clustering.discarded == ("x\n",)
    assert [c.members for c in clustering.clusters] == [(0, 1), (2,), (3,)]
    assert clustering.clusters[0].outputs == ("4\n", "-6\n", "0\n")
    assert clustering.clusters[2].outputs[2] == f"!{Verdict.RUNTIME_ERROR.value}"


def clustered(engine: Engine, codes: list[str], inputs: list[str], **config: Any) -> Any:
    """The clustering of programs ``codes`` (candidates 0, 1, ...) on ``inputs``."""
    candidates = [_candidate(i, code) for i, code in enumerate(codes)]
    clustering, _ = within_run(
        engine, lambda r: "", lambda run: cluster(run, candidates, inputs), **config
    )
    return clustering


def test_no_inputs_means_distinct_programs_are_distinct_clusters(engine: Engine) -> None:
    # Nothing was observed, so nothing says two different programs behave alike; the
    # same program written with other spacing and a comment is still one cluster.
    clustering = clustered(engine, ["print(1)\n", "print(2)\n", "print( 1 )  # one\n"], [])
    assert [c.members for c in clustering.clusters] == [(0, 2), (1,)]


def test_inputs_most_candidates_crash_on_are_discarded(engine: Engine) -> None:
    codes = [
        "print(2 * int(input()))\n",
        "print(int(input()) * 2)\n",
        "s = input()\nprint(2 * int(s) if s.isdigit() else 0)\n",
    ]
    clustering = clustered(engine, codes, ["x\n", "4\n"])
    # Two of three crash on "x": an invalid input, not evidence against them.
    assert clustering.discarded == ("x\n",) and clustering.inputs == ("4\n",)
    assert [c.members for c in clustering.clusters] == [(0, 1, 2)]


def test_outputs_equal_as_the_grader_compares_them_are_one_cluster(engine: Engine) -> None:
    codes = [
        "print(int(input()) / 2)\n",
        "print(f'{int(input()) / 2:.6f}')\n",
        "print(int(input()) // 2)\n",
    ]
    clustering = clustered(engine, codes, ["1\n", "4\n"])
    assert [c.members for c in clustering.clusters] == [(0, 1), (2,)]
    raw = clustered(engine, codes, ["1\n", "4\n"], canonical_outputs=False)
    assert [c.members for c in raw.clusters] == [(0,), (1,), (2,)]


@pytest.mark.parametrize(
    ("answers", "winner"),
    [(("A", "B"), 0), (("B", "A"), 1), (("A", "A"), None), (("B", "B"), None), ((None, "B"), None)],
)
def test_a_win_counts_only_when_both_orders_agree(
    answers: tuple[str | None, str | None], winner: int | None
) -> None:
    assert agreed_winner(0, 1, answers) == winner  # type: ignore[arg-type]


def test_compare_clusters_shows_real_outputs_in_both_orders(engine: Engine) -> None:
    candidates = [
        _candidate(0, "print(2 * int(input()))\n"),
        _candidate(1, "print(int(input()) + 2)\n"),
    ]

    def answer(request: CompletionRequest) -> str:
        if request.stage == "distinguish":
            return "```\n5\n```\n```\n2\n```"
        text = request.messages[-1].content
        return "Answer: A" if text.index("2 * int") < text.index("+ 2") else "Answer: B"

    async def body(run: Run) -> Any:
        clustering = await cluster(run, candidates, ["1\n"])
        compare = partial(compare_clusters, run, 0, 1, candidates, clustering)
        first, again = run.memo(("pair", 0, 1), compare), run.memo(("pair", 0, 1), compare)
        return await first, await again

    (comparison, memoized), backend = within_run(engine, answer, body)
    assert comparison is memoized
    assert [r.stage for r in backend.requests] == ["distinguish", "judge", "judge"]
    # On "2" both print 4, so it is not shown; the clustering input "1" that separates
    # them is shown after the model's input.
    assert comparison.inputs == ("5\n", "1\n") and comparison.inputs_source == "model+clustering"
    assert [o.output for o in comparison.first_outputs] == ["10\n", "2\n"]
    assert [o.output for o in comparison.second_outputs] == ["7\n", "3\n"]
    assert comparison.answers == ("A", "B") and comparison.winner == 0
    straight, swapped = (r.messages[-1].content for r in backend.requests[1:])
    assert straight.index("10") < straight.index("7\n")
    assert swapped.index("7\n") < swapped.index("10")


def test_the_judge_sees_errors_as_errors(engine: Engine) -> None:
    candidates = [
        _candidate(0, "print(2 * int(input()))\n"),
        _candidate(1, "n = int(input())\nprint(2 * n if n >= 0 else [][0])\n"),
    ]

    def answer(request: CompletionRequest) -> str:
        return "```\n-4\n```" if request.stage == "distinguish" else "Answer: A"

    async def body(run: Run) -> Any:
        clustering = await cluster(run, candidates, ["-1\n", "1\n"])
        return await compare_clusters(run, 0, 1, candidates, clustering)

    comparison, backend = within_run(engine, answer, body)
    assert comparison.second_outputs[0].verdict is Verdict.RUNTIME_ERROR
    assert "IndexError" in (comparison.second_outputs[0].error or "")
    straight = backend.requests[1].messages[-1].content
    assert "runtime error" in straight and "IndexError" in straight
    assert comparison.answers == ("A", "A") and comparison.winner is None
