"""Every method end to end: a scripted model and the real execution engine.

The problem: print the absolute value of n. The public test (n = 3) cannot tell
``print(n)`` from ``print(abs(n))``; the synthesized inputs can. The scripted judge knows
the answer (the program using ``abs`` is right) unless a test makes it biased.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence

import pytest

from codestar.errors import BackendError, ConfigError
from codestar.execution.engine import Engine
from codestar.llm.scripted import ScriptedBackend
from codestar.llm.types import Completion, CompletionRequest
from codestar.pipeline.config import Models, SolveConfig
from codestar.pipeline.methods import METHODS, get_method
from codestar.pipeline.orchestrator import Event
from codestar.pipeline.solver import solve, solve_many
from codestar.pipeline.trace import SolveResult
from codestar.problems.model import Problem, ProblemKind, TestCase

WRONG = "n = int(input())\nprint(n)\n"
RIGHT = "n = int(input())\nprint(abs(n))\n"
BROKEN = "n = int(input())\nprint(n + 1)\n"
PROBLEM = Problem(
    id="abs",
    statement="Read an integer n and print its absolute value.",
    kind=ProblemKind.STDIN,
    public_tests=(TestCase("3\n", "3\n"),),
    hidden_tests=(TestCase("-4\n", "4\n"), TestCase("0\n", "0\n")),
)


def fenced(code: str) -> str:
    return f"Here is my solution:\n```python\n{code}```\n"


def shown_programs(request: CompletionRequest) -> tuple[str, str]:
    """Programs A and B as a judge or distinguish prompt shows them."""
    text = request.messages[-1].content
    start_a, start_b = text.index("Program A:"), text.index("Program B:")
    end_b = text.index("```", text.index("```", start_b) + 3)
    return text[start_a:start_b], text[start_b:end_b]


def knows_abs(request: CompletionRequest) -> str:
    program_a, _ = shown_programs(request)
    return "Program A is right.\nAnswer: A" if "abs(" in program_a else "Answer: B"


Answer = str | Completion


def responder(
    samples: Sequence[str],
    *,
    debug: Callable[[CompletionRequest], Answer] | None = None,
    inputs: str = "```\n-5\n```\n```\n7\n```\n```\nnot a number\n```",
    distinguish: str = "```\n-2\n```",
    judge: Callable[[CompletionRequest], str] = knows_abs,
    tests: str = "",
) -> Callable[[CompletionRequest], Answer]:
    def answer(request: CompletionRequest) -> Answer:
        if request.stage == "generate":
            return fenced(samples[request.sample_index % len(samples)])
        if request.stage == "debug":
            if debug is None:
                raise AssertionError("no debug round expected")
            return debug(request)
        if request.stage == "inputs":
            return inputs
        if request.stage == "distinguish":
            return distinguish
        if request.stage == "judge":
            return judge(request)
        if request.stage == "tests":
            return tests
        raise AssertionError(f"unexpected stage {request.stage}")

    return answer


def run_method(
    method: str,
    engine: Engine,
    backend: ScriptedBackend,
    problem: Problem = PROBLEM,
    **config: object,
) -> SolveResult:
    settings = SolveConfig(**{"samples": 5, "rounds": 1, **config})  # type: ignore[arg-type]
    return asyncio.run(
        solve(problem, method, models=Models(backend), engine=engine, config=settings)
    )


def stages(backend: ScriptedBackend) -> list[str]:
    return [r.stage for r in backend.requests]


POOL = [WRONG, WRONG, WRONG, RIGHT, RIGHT]  # the wrong cluster is the larger one


def test_sstar_beats_majority_vote_on_a_larger_wrong_cluster(engine: Engine) -> None:
    voted = run_method("majority-vote", engine, ScriptedBackend(responder(POOL)))
    assert voted.program == WRONG.strip()
    backend = ScriptedBackend(responder(POOL))
    result = run_method("sstar", engine, backend)
    assert result.program is not None and "abs(" in result.program
    assert [c.members for c in result.clusters] == [(0, 1, 2), (3, 4)]
    model = [
        text
        for text, source in zip(result.inputs, result.input_sources, strict=True)
        if source == "model"
    ]
    assert model == ["-5\n", "7\n"] and result.inputs_discarded == ("not a number\n",)
    assert "mutation" in result.input_sources  # mutants of the public input "3"
    (comparison,) = result.comparisons
    assert comparison.answers == ("B", "A") and comparison.winner == 1
    # The judge saw the real outputs of both programs on the distinguishing input.
    # The model's distinguishing input first, then clustering inputs that separate them.
    assert comparison.inputs[:2] == ("-2\n", "-5\n")
    assert comparison.inputs_source == "model+clustering"
    assert comparison.inputs_completion == "```\n-2\n```"
    assert "not a number" in result.inputs_completion  # the raw answer stays in the trace
    assert [o.output for o in comparison.first_outputs][:2] == ["-2\n", "-5\n"]
    assert [o.output for o in comparison.second_outputs][:2] == ["2\n", "5\n"]
    assert result.selection.rule == "weighted-wins"
    assert stages(backend).count("distinguish") == 1 and stages(backend).count("judge") == 2


def test_size_first_compares_only_the_clusters_tied_for_the_largest(engine: Engine) -> None:
    backend = ScriptedBackend(responder(POOL))
    result = run_method("sstar", engine, backend, selection_rule="size-first")
    assert result.program == WRONG.strip()  # the judge would have overturned the majority
    assert result.comparisons == () and result.comparisons_planned == 0
    assert "judge" not in stages(backend) and "distinguish" not in stages(backend)
    tied = [WRONG, RIGHT]
    backend = ScriptedBackend(responder(tied))
    result = run_method("sstar", engine, backend, samples=2, selection_rule="size-first")
    assert result.program is not None and "abs(" in result.program
    assert len(result.comparisons) == 1 and result.selection.rule == "size-first"
    assert "most votes" in result.selection.reason


def test_a_judge_that_always_says_a_decides_nothing(engine: Engine) -> None:
    backend = ScriptedBackend(responder(POOL, judge=lambda request: "Answer: A"))
    result = run_method("sstar", engine, backend)
    (comparison,) = result.comparisons
    assert comparison.answers == ("A", "A") and comparison.winner is None
    # No wins anywhere: the larger cluster has the more votes...
    assert result.selection.cluster == 0 and result.selection.rule == "weighted-wins"
    # ...and under the paper's rule the tie on wins goes to it too.
    paper = run_method(
        "sstar",
        engine,
        ScriptedBackend(responder(POOL, judge=lambda r: "Answer: A")),
        selection_rule="algorithm-1",
    )
    assert paper.selection.cluster == 0 and "largest" in paper.selection.reason


def test_an_undecided_tie_goes_to_the_cluster_that_ran_cleanly(engine: Engine) -> None:
    crashes = "n = int(input())\nassert n >= 0\nprint(n)\n"  # passes the public test
    pool = [crashes, RIGHT]
    biased = ScriptedBackend(responder(pool, judge=lambda request: "Answer: A"))
    result = run_method("sstar", engine, biased, samples=2)
    assert [c.members for c in result.clusters] == [(0,), (1,)]
    assert result.comparisons[0].winner is None  # the judge decided nothing
    assert result.selection.cluster == 1 and "fewest kept inputs" in result.selection.reason
    assert result.program == RIGHT.strip()
    coin = {
        run_method(
            "sstar",
            engine,
            ScriptedBackend(responder(pool, judge=lambda request: "Answer: A")),
            samples=2,
            prefer_clean=False,
            seed=seed,
        ).selection.reason
        for seed in range(2)
    }
    assert all("seeded random pick" in reason for reason in coin)


def test_nothing_passes_the_public_tests(engine: Engine) -> None:
    problem = Problem(
        id="abs2",
        statement=PROBLEM.statement,
        kind=ProblemKind.STDIN,
        public_tests=(TestCase("3\n", "3\n"), TestCase("-1\n", "1\n")),
    )
    failing = ["print(0)\n", WRONG, WRONG]  # WRONG passes one of the two public tests
    backend = ScriptedBackend(responder(failing, debug=lambda request: "I cannot fix it."))
    result = run_method("sstar", engine, backend, problem, samples=3)
    assert result.selection.rule == "fallback-most-public-passed"
    assert result.selection.candidate == 1 and result.program == WRONG.strip()
    assert result.clusters == () and result.comparisons == ()
    assert all(len(c.rounds) == 2 and c.rounds[1].failure == "no_code" for c in result.candidates)


def test_a_single_cluster_makes_no_comparison(engine: Engine) -> None:
    same = [RIGHT, "import sys\nn = int(sys.stdin.read())\nprint(abs(n))\n"]
    backend = ScriptedBackend(responder(same))
    result = run_method("sstar", engine, backend, samples=4)
    assert len(result.clusters) == 1 and result.clusters[0].members == (0, 1, 2, 3)
    assert result.comparisons == () and result.selection.rule == "single-cluster"
    assert "distinguish" not in stages(backend) and "judge" not in stages(backend)


def test_model_inputs_that_separate_nothing_fall_back_to_clustering_inputs(
    engine: Engine,
) -> None:
    backend = ScriptedBackend(responder(POOL, distinguish="```\n5\n```\n```\nno\n```"))
    result = run_method("sstar", engine, backend, mutated_inputs=False)
    (comparison,) = result.comparisons
    assert comparison.inputs_source == "clustering" and comparison.inputs == ("-5\n",)
    assert comparison.winner == 1 and "abs(" in (result.program or "")


def test_self_debug_fixes_the_sample_and_zero_shot_does_not(engine: Engine) -> None:
    problem = Problem(
        id="abs3",
        statement=PROBLEM.statement,
        kind=ProblemKind.STDIN,
        public_tests=(TestCase("-3\n", "3\n"),),
    )
    backend = ScriptedBackend(responder([WRONG], debug=lambda request: fenced(RIGHT)))
    fixed = run_method("self-debug", engine, backend, problem, rounds=2)
    assert len(fixed.candidates) == 1 and len(fixed.candidates[0].rounds) == 2
    assert fixed.program == RIGHT.strip()
    assert fixed.candidates[0].passed
    plain = run_method("zero-shot", engine, ScriptedBackend(responder([WRONG])), problem)
    assert len(plain.candidates[0].rounds) == 1 and not plain.candidates[0].passed
    assert plain.selection.rule == "only-candidate"


def test_public_only_picks_among_passing_candidates(engine: Engine) -> None:
    problem = Problem(
        id="abs4",
        statement=PROBLEM.statement,
        kind=ProblemKind.STDIN,
        public_tests=(TestCase("-3\n", "3\n"),),
    )
    backend = ScriptedBackend(responder([WRONG, RIGHT, BROKEN, RIGHT], debug=lambda r: "no"))
    result = run_method("public-only", engine, backend, problem, samples=4)
    assert result.selection.candidate in (1, 3) and result.selection.rule == "random-passing"


def test_generated_tests_picks_the_candidate_passing_most_tests(engine: Engine) -> None:
    tests = (
        "Input:\n```\n-5\n```\nOutput:\n```\n5\n```\n"
        "Input:\n```\n2\n```\nOutput:\n```\n2\n```\n"
        "Input:\n```\n-1\n```\nOutput:\n```\n2\n```\n"  # a wrong prediction: nobody passes
    )
    backend = ScriptedBackend(responder(POOL, tests=tests))
    result = run_method("generated-tests", engine, backend)
    assert "abs(" in (result.program or "") and result.selection.rule == "dual-agreement"
    assert [t.passed_by for t in result.generated_tests] == [(3, 4), (0, 1, 2, 3, 4), ()]
    # Consensus sets: {0, 1, 2} agree on one test (score 3), {3, 4} on two (score 4).
    assert dict(result.selection.scores) == {0: 3.0, 3: 4.0}


def test_generated_tests_dual_agreement_outvotes_a_lone_candidate(engine: Engine) -> None:
    # Three samples agree with the right prediction on one test; a lone wrong sample
    # passes two wrongly predicted tests. Most-tests-passed would elect the loner
    # (2 > 1); dual agreement scores the sets 3 x 1 = 3 against 1 x 2 = 2.
    tests = (
        "Input:\n```\n-5\n```\nOutput:\n```\n5\n```\n"
        "Input:\n```\n-2\n```\nOutput:\n```\n-1\n```\n"
        "Input:\n```\n-3\n```\nOutput:\n```\n-2\n```\n"
    )
    pool = [RIGHT, RIGHT, RIGHT, BROKEN]
    problem = Problem(
        id="abs5", statement=PROBLEM.statement, kind=ProblemKind.STDIN, public_tests=()
    )
    backend = ScriptedBackend(responder(pool, tests=tests))
    result = run_method("generated-tests", engine, backend, problem, samples=4)
    assert result.program == RIGHT.strip() and dict(result.selection.scores) == {0: 3.0, 3: 2.0}


def test_llm_judge_judges_distinct_programs_from_code_alone(engine: Engine) -> None:
    backend = ScriptedBackend(responder(POOL))
    result = run_method("llm-judge", engine, backend)
    assert "abs(" in (result.program or "")
    # Identical programs are judged once: one pair, asked in both orders.
    assert len(result.comparisons) == 1 and stages(backend).count("judge") == 2
    judge_prompts = [r.messages[-1].content for r in backend.requests if r.stage == "judge"]
    assert all("real outputs" not in prompt for prompt in judge_prompts)
    assert "inputs" not in stages(backend)


def test_oracle_uses_hidden_tests_and_refuses_without_them(engine: Engine) -> None:
    result = run_method("oracle", engine, ScriptedBackend(responder(POOL)))
    assert result.selection.candidate == 3 and result.selection.rule == "oracle"
    bare = Problem(
        id="bare", statement="x", kind=ProblemKind.STDIN, public_tests=PROBLEM.public_tests
    )
    with pytest.raises(ConfigError, match="hidden tests"):
        run_method("oracle", engine, ScriptedBackend(responder(POOL)), bare)


def test_unknown_method_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        get_method("s-star")
    assert "sstar" in str(caught.value) and "majority-vote" in str(caught.value)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_honours_the_contract(method: str, engine: Engine) -> None:
    backend = ScriptedBackend(responder(POOL, tests="Input:\n```\n-1\n```\nOutput:\n```\n1\n```"))
    result = run_method(method, engine, backend)
    assert result.method == method and result.problem_id == PROBLEM.id
    chosen = result.selected
    assert chosen is not None and result.program == chosen.code
    assert all(c.rounds for c in result.candidates)
    trace = json.loads(json.dumps(result.to_dict()))
    for key in (
        "program",
        "method",
        "candidates",
        "inputs",
        "clusters",
        "comparisons",
        "selection",
        "usage",
    ):
        assert key in trace
    assert all("rounds" in c for c in trace["candidates"])
    calls = sum(u["calls"] for u in trace["usage"].values())
    assert calls == len(backend.requests)
    assert trace["timings"]["total_s"] > 0


def test_samples_and_debug_chains_overlap(engine: Engine) -> None:
    """Eight candidates, seven needing both debug rounds, input synthesis, then one
    distinguish-and-judge: five model latencies end to end (generate, debug, debug,
    distinguish, judge), where a serial run waits for all 26 calls."""
    latency = 0.25

    def debug(request: CompletionRequest) -> str:
        rounds_so_far = request.messages[-1].content.count("## Attempt")
        return fenced(RIGHT if rounds_so_far >= 2 else BROKEN)

    problem = Problem(
        id="abs5",
        statement=PROBLEM.statement,
        kind=ProblemKind.STDIN,
        public_tests=(TestCase("-3\n", "3\n"),),
    )
    sneaky = "n = int(input())\nprint(3 if n < 0 else n)\n"  # passes -3, fails -5
    backend = ScriptedBackend(responder([BROKEN] * 7 + [sneaky], debug=debug), latency_s=latency)
    started = time.perf_counter()
    result = run_method("sstar", engine, backend, problem, samples=8, rounds=2)
    elapsed = time.perf_counter() - started
    assert len(backend.requests) == 8 + 7 * 2 + 1 + 1 + 2
    assert [c.members for c in result.clusters] == [(0, 1, 2, 3, 4, 5, 6), (7,)]
    assert "abs(" in (result.program or "")
    assert elapsed < 5 * latency + 1.5, f"{elapsed:.2f}s"  # serial: 26 x 0.25 = 6.5 s


def test_solve_many_keeps_order_and_records_errors(engine: Engine) -> None:
    bare = Problem(
        id="bare", statement="x", kind=ProblemKind.STDIN, public_tests=PROBLEM.public_tests
    )
    results = asyncio.run(
        solve_many(
            [PROBLEM, bare],
            "oracle",
            models=Models(ScriptedBackend(responder(POOL))),
            engine=engine,
            config=SolveConfig(samples=2, rounds=0),
            concurrency=2,
        )
    )
    assert isinstance(results[0], SolveResult) and results[0].problem_id == "abs"
    assert isinstance(results[1], ConfigError)


def test_a_backend_failure_ends_the_run_and_cancels_its_other_work(engine: Engine) -> None:
    cancelled: list[str] = []

    async def answer(request: CompletionRequest) -> str:
        if request.stage == "inputs":
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.append("inputs")
                raise
        if request.stage == "generate" and request.sample_index == 2:
            raise BackendError("the server went away")
        return fenced(WRONG)

    started = time.perf_counter()
    with pytest.raises(BackendError, match="went away"):
        run_method("sstar", engine, ScriptedBackend(answer))
    assert cancelled == ["inputs"] and time.perf_counter() - started < 10


def test_the_trace_records_what_a_method_really_used(engine: Engine) -> None:
    result = run_method("zero-shot", engine, ScriptedBackend(responder(POOL)), samples=8)
    assert result.config["samples"] == 1 and result.config["rounds"] == 0
    assert result.to_dict()["config"]["samples"] == 1


def test_sstar_on_a_functional_problem(engine: Engine) -> None:
    problem = Problem(
        id="twice",
        statement="Return twice the given integer n.",
        kind=ProblemKind.FUNCTIONAL,
        entry_point="twice",
        starter_code="class Solution:\n    def twice(self, n: int) -> int:\n        ",
        public_tests=(TestCase("2", "4"),),  # 2 * n, n * n and n + 2 all pass it
    )
    body = "class Solution:\n    def twice(self, n: int) -> int:\n        return {}\n"
    pool = [
        body.format("n * n"),
        body.format("n + 2"),
        body.format("2 * n"),
        body.format("n * n"),
        body.format("n << 1"),
    ]

    def judge(request: CompletionRequest) -> str:
        program_a, _ = shown_programs(request)
        return "Answer: A" if ("2 * n" in program_a or "<< 1" in program_a) else "Answer: B"

    backend = ScriptedBackend(
        responder(
            pool,
            inputs="```\n3\n```\n```\n0\n```\n```\n1\n2\n```",  # the last has two arguments
            distinguish="```\n5\n```",
            judge=judge,
        )
    )
    result = run_method("sstar", engine, backend, problem, mutated_inputs=False)
    assert result.inputs == ("3", "0") and result.inputs_dropped == 1
    assert [c.members for c in result.clusters] == [(0, 3), (1,), (2, 4)]
    assert len(result.comparisons) == 3
    assert result.selection.cluster == 2 and "2 * n" in (result.program or "")
    # The judge only recognises the right program: between the two wrong ones it always
    # answers B, so that comparison has no winner. Votes: cluster 2 keeps its 2 and
    # takes the 2 + 1 of the clusters it beat; they lose theirs.
    assert dict(result.selection.scores) == {0: 0.0, 1: 0.0, 2: 5.0}
    undecided = next(c for c in result.comparisons if {c.first, c.second} == {0, 1})
    assert undecided.answers == ("B", "B") and undecided.winner is None


def test_progress_events_follow_the_run(engine: Engine) -> None:
    events: list[Event] = []
    asyncio.run(
        solve(
            PROBLEM,
            "sstar",
            models=Models(ScriptedBackend(responder(POOL))),
            engine=engine,
            config=SolveConfig(samples=5, rounds=1),
            progress=events.append,
        )
    )
    kinds = [e.kind for e in events]
    assert kinds.count("sampled") == 5 and kinds.count("inputs") == 1
    assert kinds.count("clustered") == 1 and kinds.count("compared") == 1
    assert kinds[-1] == "selected" and kinds.index("clustered") > kinds.index("inputs")
    assert {e.candidate for e in events if e.kind == "sampled"} == {0, 1, 2, 3, 4}
