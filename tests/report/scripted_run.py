"""A real evaluation run dir for report tests: a scripted model, the real sandbox and store.

The problems are "print |n|". For most of them the model samples three programs that
print ``n`` (they pass the public test n = 3 and form the larger, wrong cluster), one
that prints ``n + 1`` (fails, and its debug round fixes it) and one right program; the
judge knows ``abs`` is right, so S* solves them and majority vote does not. ``abs-all``
is sampled right every time (everyone solves it), ``crash`` only gets crashing programs
(no candidate passes the public tests), ``down`` has a model server that fails (an error
row), and the XSS problem gets model text and program output full of HTML and script.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from codestar.errors import BackendError
from codestar.evaluation.runner import EvalConfig, Evaluation, evaluate
from codestar.execution.engine import Engine
from codestar.llm.scripted import ScriptedBackend
from codestar.llm.store import RunStore
from codestar.llm.stored import StoredBackend
from codestar.llm.types import CompletionRequest
from codestar.pipeline.config import Models, SolveConfig
from codestar.pipeline.solver import solve
from codestar.pipeline.trace import SolveResult
from codestar.problems.model import Problem, ProblemKind, TestCase

PAYLOAD = '<script>alert(1)</script></textarea>"><img src=x onerror=alert(2)>'
XSS_ID = 'xss"><img src=x onerror=alert(3)>'

WRONG = "n = int(input())\nprint(n)\n"
RIGHT = "n = int(input())\nprint(abs(n))\n"
BROKEN = "n = int(input())\nprint(n + 1)\n"
CRASH = "n = int(input())\nraise SystemExit(1 // (n - n))\n"
HOSTILE = f"n = int(input())\nprint({PAYLOAD!r} if n < 0 else abs(n))\n"
POOL = (WRONG, WRONG, WRONG, BROKEN, RIGHT)
METHODS = ("sstar", "majority-vote", "zero-shot", "public-only")
SAMPLES = 5


def problem(problem_id: str, difficulty: str, platform: str = "atcoder") -> Problem:
    return Problem(
        id=problem_id,
        # Distinct statements: the run store answers identical prompts once.
        statement=f"Problem {problem_id}: print the absolute value of an integer n. {PAYLOAD}",
        kind=ProblemKind.STDIN,
        public_tests=(TestCase("3\n", "3\n"),),
        hidden_tests=(TestCase("-4\n", "4\n"), TestCase("0\n", "0\n")),
        difficulty=difficulty,
        platform=platform,
    )


PROBLEMS = (
    problem("abs-1", "easy"),
    problem("abs-2", "medium"),
    problem("abs-3", "hard", "leetcode"),
    problem("abs-all", "easy", "leetcode"),
    problem("crash", "hard"),
    problem("down", "medium"),
    problem(XSS_ID, "hard"),
)
#: What the scripted model makes of each problem, per method (public-only picks at random).
SOLVED = {
    "sstar": {"abs-1", "abs-2", "abs-3", "abs-all"},
    "majority-vote": {"abs-all"},
    "zero-shot": {"abs-all"},
}


def fenced(code: str, note: str = "Here is my solution:") -> str:
    return f"{note}\n```python\n{code}```\n"


def _samples(problem_id: str) -> tuple[str, ...]:
    if problem_id == "abs-all":
        return (RIGHT,)
    if problem_id == "crash":
        return (CRASH,)
    if problem_id == XSS_ID:
        return (WRONG, WRONG, WRONG, HOSTILE, HOSTILE)
    return POOL


def _judge(request: CompletionRequest) -> str:
    text = request.messages[-1].content
    program_a = text[text.index("Program A:") : text.index("Program B:")]
    right = "abs(" in program_a
    return f"{PAYLOAD} Program {'A' if right else 'B'} is right.\nAnswer: {'A' if right else 'B'}"


def responder(request: CompletionRequest) -> str:
    pid = request.problem_id or ""
    if pid == "down":
        raise BackendError("the server gave up")
    note = f"My answer {PAYLOAD}" if pid == XSS_ID else "Here is my solution:"
    if request.stage == "generate":
        samples = _samples(pid)
        # zero-shot takes sample 0: make it the wrong one where the pool has both.
        return fenced(samples[request.sample_index % len(samples)], note)
    if request.stage == "debug":
        return fenced(CRASH if pid == "crash" else RIGHT, note)
    if request.stage == "inputs":
        return "```\n-5\n```\n```\n7\n```\n```\nnot a number\n```"
    if request.stage == "distinguish":
        return "```\n-2\n```"
    if request.stage == "judge":
        return _judge(request)
    return ""


def make_run(
    run_dir: Path,
    engine: Engine,
    problems: tuple[Problem, ...] = PROBLEMS,
    answer: Callable[[CompletionRequest], str] = responder,
) -> Evaluation:
    """Evaluate ``problems`` with `METHODS` into ``run_dir`` (N=5, R=1)."""
    config = EvalConfig(methods=METHODS, solve=SolveConfig(samples=SAMPLES, rounds=1))

    async def run() -> Evaluation:
        with RunStore(run_dir) as store:
            models = Models(StoredBackend(ScriptedBackend(answer), store))
            return await evaluate(
                problems, models=models, engine=engine, config=config, run_dir=run_dir
            )

    return asyncio.run(run())


def solve_one(problem: Problem, engine: Engine) -> SolveResult:
    """S* on one problem with the scripted model (no run store): a `SolveResult`."""
    work = solve(
        problem,
        "sstar",
        models=Models(ScriptedBackend(responder)),
        engine=engine,
        config=SolveConfig(samples=SAMPLES, rounds=1),
    )
    return asyncio.run(work)
