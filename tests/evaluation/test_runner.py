"""The evaluation runner end to end: a scripted model, the real sandbox, a real run store.

The benchmark: "print a + b" problems p0..p5. The scripted model answers the right
program for some problems and a wrong one for the others, so the expected pass@1 is
known exactly; calls are counted at the scripted backend, under the run store, so reuse
across methods and resume are measured where a server would see them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from codestar.errors import BackendError
from codestar.evaluation.results import ResultsFile
from codestar.evaluation.runner import EvalConfig, Evaluation, evaluate
from codestar.execution.engine import Engine
from codestar.execution.types import Limits
from codestar.llm.scripted import ScriptedBackend
from codestar.llm.store import RunStore
from codestar.llm.stored import StoredBackend
from codestar.llm.types import CompletionRequest
from codestar.pipeline.config import Models, SolveConfig
from codestar.problems.model import Problem, ProblemKind, TestCase

RIGHT = "a, b = map(int, input().split())\nprint(a + b)\n"
WRONG = "a, b = map(int, input().split())\nprint(a * b)\n"  # right on 2 2, wrong elsewhere


def problem(index: int, *, hidden: bool = True) -> Problem:
    return Problem(
        id=f"p{index}",
        statement=f"Problem {index}: read two integers a and b and print a + b.",
        kind=ProblemKind.STDIN,
        public_tests=(TestCase("2 2\n", "4\n"),),
        hidden_tests=(TestCase("1 2\n", "3\n"), TestCase("5 7\n", "12\n")) if hidden else (),
        difficulty="easy" if index % 2 == 0 else "hard",
        platform="test",
    )


PROBLEMS = [problem(i) for i in range(6)]
SOLVED = {"p0", "p1", "p3"}


def fenced(code: str) -> str:
    return f"```python\n{code}```"


def answers(solved: set[str], *, fail: set[str] = frozenset()) -> Callable[..., str]:  # type: ignore[assignment]
    def answer(request: CompletionRequest) -> str:
        if request.problem_id in fail:
            raise BackendError("the server gave up")
        if request.stage in ("generate", "debug"):
            return fenced(RIGHT if request.problem_id in solved else WRONG)
        if request.stage in ("inputs", "distinguish"):
            return "```\n1 2\n```\n```\n3 3\n```"
        if request.stage == "judge":
            return "Answer: A"
        return ""

    return answer


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with Engine(workers=2, limits=Limits(timeout_s=5)) as running:
        yield running


def run(
    engine: Engine,
    backend: ScriptedBackend,
    methods: Sequence[str],
    run_dir: Path | None = None,
    problems: Sequence[Problem] = PROBLEMS,
    **settings: object,
) -> Evaluation:
    config = EvalConfig(
        methods=tuple(methods),
        solve=SolveConfig(samples=3, rounds=1),
        **settings,  # type: ignore[arg-type]
    )
    if run_dir is None:
        return asyncio.run(evaluate(problems, models=Models(backend), engine=engine, config=config))

    async def stored() -> Evaluation:
        with RunStore(run_dir) as store:
            models = Models(StoredBackend(backend, store))
            return await evaluate(
                problems, models=models, engine=engine, config=config, run_dir=run_dir
            )

    return asyncio.run(stored())


def test_pass_at_1_is_exactly_the_share_of_problems_answered_right(engine: Engine) -> None:
    evaluation = run(engine, ScriptedBackend(answers(SOLVED)), ["sstar", "zero-shot"])
    for method in ("sstar", "zero-shot"):
        summary = evaluation.summary.method(method)
        assert (summary.pass_at_1.passed, summary.pass_at_1.graded) == (3, 6)
        assert summary.pass_at_n.passed == 3
    passed = {row.problem_id for row in evaluation.rows if row.passed}
    assert passed == SOLVED
    by_difficulty = evaluation.summary.method("sstar").by_difficulty
    assert (by_difficulty["easy"].passed, by_difficulty["easy"].graded) == (1, 3)  # p0
    assert (by_difficulty["hard"].passed, by_difficulty["hard"].graded) == (2, 3)  # p1, p3
    row = next(r for r in evaluation.rows if r.problem_id == "p2" and r.method == "sstar")
    # The wrong program passes the public test (2 2) and fails the first hidden one.
    assert row.public_passed == 1 and row.passed is False and row.hidden_passed == 0


def test_methods_in_one_run_share_the_pool_and_say_what_they_reused(
    engine: Engine, tmp_path: Path
) -> None:
    alone = ScriptedBackend(answers(SOLVED))
    run(engine, alone, ["sstar"], tmp_path / "alone")
    together = ScriptedBackend(answers(SOLVED))
    evaluation = run(
        engine, together, ["sstar", "public-only", "majority-vote", "zero-shot"], tmp_path / "all"
    )
    # Three more methods, not one more call at the server: the same samples, debug
    # chains and inputs were asked once.
    assert len(together.requests) == len(alone.requests)
    reused = {m.method: m.total_usage for m in evaluation.summary.methods}
    assert sum(u.new_calls for u in reused.values()) == len(alone.requests)
    assert all(u.calls > 0 for u in reused.values())
    assert sum(u.reused_calls for u in reused.values()) > 0


def test_adding_a_method_to_a_finished_run_costs_no_generation(
    engine: Engine, tmp_path: Path
) -> None:
    first = ScriptedBackend(answers(SOLVED))
    run(engine, first, ["sstar"], tmp_path)
    later = ScriptedBackend(answers(SOLVED))
    evaluation = run(engine, later, ["sstar", "majority-vote", "public-only"], tmp_path)
    assert later.requests == []  # sstar rows resumed; the others answered by the store
    assert evaluation.resumed == len(PROBLEMS)
    majority = evaluation.summary.method("majority-vote").total_usage
    assert majority.calls > 0 and majority.new_calls == 0


def test_a_finished_run_reruns_with_zero_calls_and_identical_results(
    engine: Engine, tmp_path: Path
) -> None:
    first = run(engine, ScriptedBackend(answers(SOLVED)), ["sstar", "self-debug"], tmp_path)
    again = ScriptedBackend(answers(SOLVED))
    second = run(engine, again, ["sstar", "self-debug"], tmp_path)
    assert again.requests == []
    assert [r.to_dict() for r in second.rows] == [r.to_dict() for r in first.rows]
    assert second.summary.to_dict() == first.summary.to_dict()
    files = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert {"results.jsonl", "summary.json", "generations/sstar.json"} <= files
    generations = json.loads((tmp_path / "generations" / "sstar.json").read_text())
    assert [g["question_id"] for g in generations] == [p.id for p in PROBLEMS]
    assert generations[0]["code_list"] == [RIGHT.strip()]


def test_a_problem_whose_calls_fail_is_an_error_row_and_the_run_goes_on(
    engine: Engine, tmp_path: Path
) -> None:
    backend = ScriptedBackend(answers(SOLVED, fail={"p1"}))
    evaluation = run(engine, backend, ["sstar"], tmp_path)
    (error,) = evaluation.errors
    assert error.problem_id == "p1" and "gave up" in (error.error or "")
    assert error.passed is False  # counted as failed, not left out
    assert evaluation.summary.method("sstar").pass_at_1.passed == 2
    assert evaluation.summary.method("sstar").errors == ("p1",)
    # A rerun retries the error row (the failure may have been transient).
    fixed = ScriptedBackend(answers(SOLVED))
    again = run(engine, fixed, ["sstar"], tmp_path)
    assert {r.problem_id for r in fixed.requests} == {"p1"}
    assert not again.errors and again.summary.method("sstar").pass_at_1.passed == 3


def test_a_problem_without_hidden_tests_is_never_counted_as_passed(engine: Engine) -> None:
    problems = [problem(0), problem(1, hidden=False)]
    evaluation = run(engine, ScriptedBackend(answers({"p0", "p1"})), ["sstar"], problems=problems)
    row = next(r for r in evaluation.rows if r.problem_id == "p1")
    assert row.passed is None and row.hidden_tests == 0 and row.pool_passed is None
    summary = evaluation.summary
    assert summary.no_hidden_tests == ("p1",)
    assert (summary.method("sstar").pass_at_1.passed, summary.method("sstar").pass_at_1.graded) == (
        1,
        1,
    )


def test_a_straggler_stops_at_the_problem_timeout_with_what_it_has(engine: Engine) -> None:
    # p0's sample fails the public test, so it is debugged, and its debug calls hang.
    async def hang() -> str:
        await asyncio.sleep(30)
        return fenced(RIGHT)

    def answer(request: CompletionRequest) -> object:
        if request.problem_id == "p0" and request.stage == "generate":
            return fenced("print(0)\n")
        if request.problem_id == "p0" and request.stage == "debug":
            return hang()
        return answers(SOLVED)(request)

    backend = ScriptedBackend(answer)  # type: ignore[arg-type]
    evaluation = run(engine, backend, ["sstar"], problems=PROBLEMS[:3], problem_timeout_s=3.0)
    row = next(r for r in evaluation.rows if r.problem_id == "p0")
    assert row.stopped is not None and "time limit" in row.stopped
    assert row.error is None and row.passed is False and row.wall_s < 20
    others = [r for r in evaluation.rows if r.problem_id != "p0"]
    assert all(r.stopped is None for r in others)


def test_rows_survive_a_torn_last_line(tmp_path: Path) -> None:
    from codestar.evaluation.results import ResultRow

    results = ResultsFile(tmp_path)
    results.append(ResultRow(problem_id="a", method="sstar", passed=True, hidden_tests=1))
    with results.path.open("a", encoding="utf-8") as file:
        file.write('{"problem_id": "b", "meth')  # a kill in the middle of a write
    assert [r.problem_id for r in results.read()] == ["a"]
    results.append(ResultRow(problem_id="b", method="sstar", passed=False, hidden_tests=1))
    assert [r.problem_id for r in results.read()] == ["a", "b"]


def test_a_trace_torn_by_a_kill_does_not_swallow_the_next_one(
    engine: Engine, tmp_path: Path
) -> None:
    first = run(engine, ScriptedBackend(answers(SOLVED)), ["zero-shot"], tmp_path, PROBLEMS[:1])
    assert [r.problem_id for r in first.rows] == ["p0"]
    traces = tmp_path / "traces" / "zero-shot.jsonl"
    with traces.open("a", encoding="utf-8") as file:
        file.write('{"problem_id": "p1", "meth')  # a kill in the middle of a write
    run(engine, ScriptedBackend(answers(SOLVED)), ["zero-shot"], tmp_path, PROBLEMS[:2])
    lines = traces.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["problem_id"] for line in lines] == ["p0", "p1"]


def test_a_server_that_cannot_be_reached_stops_the_run_and_keeps_finished_rows(
    engine: Engine, tmp_path: Path
) -> None:
    from codestar.errors import BackendUnreachableError

    def answer(request: CompletionRequest) -> str:
        if request.problem_id != "p0":
            raise BackendUnreachableError("cannot connect to http://127.0.0.1:9/v1")
        return answers(SOLVED)(request)

    problems = PROBLEMS[:3]
    first = run(engine, ScriptedBackend(answers(SOLVED)), ["sstar"], tmp_path, problems[:1])
    assert [r.problem_id for r in first.rows] == ["p0"]
    with pytest.raises(BackendUnreachableError):
        run(engine, ScriptedBackend(answer), ["sstar"], tmp_path, problems)
    kept = ResultsFile(tmp_path).read()
    assert [r.problem_id for r in kept] == ["p0"] and not any(r.error for r in kept)


def test_the_undebugged_samples_have_their_own_oracle(engine: Engine) -> None:
    broken = "a, b = map(int, input().split())\nprint(a - b)\n"  # fails the public test

    def answer(request: CompletionRequest) -> str:
        if request.stage == "generate":  # p0's samples are right, the others' need a fix
            return fenced(RIGHT if request.problem_id == "p0" else broken)
        if request.stage == "debug":
            return fenced(RIGHT)
        return answers(set())(request)

    evaluation = run(engine, ScriptedBackend(answer), ["sstar"], problems=PROBLEMS[:3])
    summary = evaluation.summary.method("sstar")
    assert (summary.pass_at_n.passed, summary.pass_at_n_samples.passed) == (3, 1)
    rows = {row.problem_id: row for row in evaluation.rows}
    # Counted per candidate, though every candidate here has the same program (run once).
    assert rows["p0"].pool_size > 1
    assert rows["p0"].samples_passed == rows["p0"].pool_size and rows["p1"].samples_passed == 0
    assert rows["p1"].pool_passed == rows["p1"].pool_size and rows["p1"].passed
    # Every candidate passes the public tests after debugging, and the hidden ones.
    assert rows["p1"].public_pool_passed == rows["p1"].candidates_passing_public
    assert rows["p1"].random_pick == 1.0 and summary.random_pick.graded == 3
    assert summary.to_dict()["pass_at_n_samples"]["passed"] == 1


@pytest.mark.parametrize("chunk", [1, 3, 1 << 16])
def test_a_torn_tail_is_cut_after_the_last_newline_however_far_back(
    tmp_path: Path, chunk: int
) -> None:
    from codestar.evaluation.results import _cut_torn_tail

    path = tmp_path / "rows.jsonl"
    for text, kept in [
        (b'{"a": 1}\n{"b": 2}\n', b'{"a": 1}\n{"b": 2}\n'),  # whole: untouched
        (b'{"a": 1}\n{"b": 2}\n{"c": 3', b'{"a": 1}\n{"b": 2}\n'),
        (b'{"a": 1}\n' + b"x" * 100, b'{"a": 1}\n'),  # the tear longer than a chunk
        (b'{"c": 3', b""),  # not one complete line
        (b"", b""),
    ]:
        path.write_bytes(text)
        _cut_torn_tail(path, chunk=chunk)
        assert path.read_bytes() == kept, (text, chunk)
