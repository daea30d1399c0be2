"""Prepare benchmark problems for grading: compute the expected outputs nobody shipped.

Some benchmarks give inputs and a reference solution but no outputs (EvalPlus, the
examples found in HumanEval docstrings, custom records without ``output``): their tests
have ``expected=None`` and ``metadata["reference_solution"]`` holds the code. HumanEval
goes further: its hidden tests are the calls its ``check(candidate)`` function makes
(``metadata["check_program"]``), known only once it has run.

`prepare_problems` runs, in the sandbox (`Engine.arun`, never in this process):

1. for a problem with a check program and no hidden tests, the reference solution with
   ``check`` called on a recording wrapper around it: a stdin program that prints each
   call's arguments and return value as a JSON line; each distinct call becomes a hidden
   test (its input, and the reference's output as the expected one);
2. the reference solution on every test still without an expected output; its output
   becomes the expected one. A test on which the reference fails (error, timeout, an
   output too long to keep) is dropped, counted and reported.

Results are cached on disk, one file per problem under
``$XDG_CACHE_HOME/codestar/benchmarks/`` (default ``~/.cache``), keyed by a hash of the
problem's tests, reference and check, so a second evaluation does not re-run references.
A preparation in which the reference timed out is not cached (under load it may pass
next time).

`grading_rule` says how a problem's hidden tests are compared: EvalPlus and HumanEval
problems (``metadata["atol"]``) within ``atol`` (``1e-6`` when it is 0, as EvalPlus
enforces for float outputs), custom ones within their ``float_tolerance``; everything
else by the default rule. It does not grade candidates; the runner does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codestar.atomic import write_text_atomic
from codestar.execution.types import GradingRule, Limits, Program, Verdict
from codestar.problems.model import Problem, ProblemKind, TestCase

if TYPE_CHECKING:
    from codestar.pipeline.orchestrator import Executor

__all__ = [
    "PreparationReport",
    "PreparedProblem",
    "PreparedSet",
    "default_cache_dir",
    "grading_rule",
    "needs_preparation",
    "prepare_problems",
]

# Bump when what a preparation produces changes, so old cache entries are not reused.
_VERSION = 1
_DEFAULT_ATOL = 1e-6
#: EvalPlus's relative tolerance (its np.allclose call).
_EVALPLUS_RTOL = 1e-7
_MAX_OUTPUT = 16 * 1024 * 1024
REFERENCE_LIMITS = Limits(timeout_s=30.0, captured_chars=_MAX_OUTPUT, output_bytes=4 * _MAX_OUTPUT)
"""Limits for reference solutions: generous time, and outputs kept whole."""

_RECORDER = """

def _codestar_recording(function, calls):
    import json

    def jsonable(value):
        if isinstance(value, (set, frozenset)):
            try:
                return sorted(value)
            except TypeError:
                return list(value)
        raise TypeError(type(value).__name__)

    def recording(*arguments):
        try:
            text = "\\n".join(json.dumps(argument) for argument in arguments)
        except (TypeError, ValueError):
            text = None
        result = function(*arguments)
        output = None
        if text is not None:
            try:
                output = json.dumps(result, default=jsonable, sort_keys=True)
            except TypeError:
                try:
                    output = json.dumps(result, default=jsonable)
                except (TypeError, ValueError):
                    output = None
            except ValueError:
                output = None
        calls.append([text, output])
        return result

    return recording


_codestar_calls = []
check(_codestar_recording({entry}, _codestar_calls))
import json as _codestar_json
for _codestar_call in _codestar_calls:
    print("{marker}" + _codestar_json.dumps(_codestar_call))
"""
# Recorded calls are the lines starting with this; whatever the reference prints is not.
_MARKER = "\x1ecodestar-call "


@dataclass(frozen=True, slots=True)
class PreparedProblem:
    """What preparing one problem did.

    recorded: hidden tests recorded from the check program; unrecordable: recorded calls
    whose arguments or result JSON cannot carry; public_dropped / hidden_dropped: tests
    left out because the reference failed on them; failures: the first few reasons.
    """

    problem_id: str
    hidden_tests: int
    recorded: int = 0
    unrecordable: int = 0
    public_dropped: int = 0
    hidden_dropped: int = 0
    failures: tuple[str, ...] = ()
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"failures": list(self.failures)}


@dataclass(frozen=True, slots=True)
class PreparationReport:
    """One `PreparedProblem` per problem that needed preparing."""

    problems: tuple[PreparedProblem, ...] = ()

    @property
    def dropped_tests(self) -> int:
        return sum(p.public_dropped + p.hidden_dropped for p in self.problems)

    @property
    def without_hidden_tests(self) -> tuple[str, ...]:
        """Problems left with no hidden test: graded on nothing."""
        return tuple(p.problem_id for p in self.problems if p.hidden_tests == 0)

    @property
    def cached(self) -> int:
        return sum(p.cached for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "prepared": len(self.problems),
            "from_cache": self.cached,
            "dropped_tests": self.dropped_tests,
            "without_hidden_tests": list(self.without_hidden_tests),
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass(frozen=True, slots=True)
class PreparedSet:
    """The problems with every expected output known, in the given order, and a report."""

    problems: tuple[Problem, ...]
    report: PreparationReport


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/codestar/benchmarks`` (``~/.cache/codestar/benchmarks``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "codestar" / "benchmarks"


def grading_rule(problem: Problem) -> GradingRule:
    """The rule to grade this problem's hidden tests with.

    >>> grading_rule(Problem("p", "s", ProblemKind.STDIN, metadata={"atol": 0}))
    GradingRule(float_tolerance=1e-06, relative_tolerance=1e-07, unordered=False)
    """
    tolerance = problem.metadata.get("float_tolerance")
    if isinstance(tolerance, int | float) and tolerance > 0:
        return GradingRule(float_tolerance=float(tolerance))
    atol = problem.metadata.get("atol")
    if isinstance(atol, int | float):
        # EvalPlus: np.allclose(out, exp, rtol=1e-07, atol=atol), 1e-6 when atol is 0;
        # its set-equality MBPP tasks compare set(out) == set(exp).
        absolute = float(atol) if atol > 0 else _DEFAULT_ATOL
        unordered = problem.metadata.get("evalplus_oracle") == "set"
        return GradingRule(
            float_tolerance=absolute, relative_tolerance=_EVALPLUS_RTOL, unordered=unordered
        )
    return GradingRule()


def needs_preparation(problem: Problem) -> bool:
    """True when the problem has tests without expected outputs, or unrecorded hidden tests."""
    return _needs_recording(problem) or any(t.expected is None for t in problem.tests())


def _needs_recording(problem: Problem) -> bool:
    return (
        bool(problem.metadata.get("check_program"))
        and not problem.hidden_tests
        and not problem.metadata.get("prepared")
    )


async def prepare_problems(
    problems: Sequence[Problem],
    engine: Executor,
    *,
    cache_dir: Path | None = None,
    use_cache: bool = True,
) -> PreparedSet:
    """The problems with expected outputs filled in by their reference solutions.

    Problems that need nothing are passed through unchanged and are not in the report.
    A problem that needs outputs but has no ``reference_solution`` keeps only the tests
    that have expected outputs (the others are counted as dropped).
    """
    folder = (cache_dir or default_cache_dir()) if use_cache else None
    jobs = [
        _prepare_one(problem, engine, folder) if needs_preparation(problem) else None
        for problem in problems
    ]
    import asyncio  # here: `codestar grade` imports this module but rarely needs a loop

    done = await asyncio.gather(*(job for job in jobs if job is not None))
    results = iter(done)
    prepared: list[Problem] = []
    entries: list[PreparedProblem] = []
    for problem, job in zip(problems, jobs, strict=True):
        if job is None:
            prepared.append(problem)
            continue
        new_problem, entry = next(results)
        prepared.append(new_problem)
        entries.append(entry)
    return PreparedSet(tuple(prepared), PreparationReport(tuple(entries)))


def _cache_key(problem: Problem) -> str:
    content = {
        "version": _VERSION,
        "id": problem.id,
        "kind": problem.kind.value,
        "entry_point": problem.entry_point,
        "public": [[t.input, t.expected] for t in problem.public_tests],
        "hidden": [[t.input, t.expected] for t in problem.hidden_tests],
        "reference": problem.metadata.get("reference_solution"),
        "check": problem.metadata.get("check_program"),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _read_cache(path: Path) -> Mapping[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent or damaged: prepare again
    return data if isinstance(data, dict) else None


def _from_cache(problem: Problem, path: Path) -> tuple[Problem, PreparedProblem] | None:
    cached = _read_cache(path)
    if cached is None:
        return None
    try:
        public, hidden = _tests(cached["public"]), _tests(cached["hidden"])
        entry = PreparedProblem(
            problem_id=problem.id,
            hidden_tests=len(hidden),
            recorded=int(cached["recorded"]),
            unrecordable=int(cached["unrecordable"]),
            public_dropped=int(cached["public_dropped"]),
            hidden_dropped=int(cached["hidden_dropped"]),
            failures=tuple(str(failure) for failure in cached["failures"]),
            cached=True,
        )
    except (KeyError, TypeError, ValueError, IndexError):
        return None  # an entry of another shape: prepare again and overwrite it
    return _with_tests(problem, public, hidden), entry


def _write_cache(path: Path, data: Mapping[str, Any]) -> None:
    write_text_atomic(path, json.dumps(data))


def _tests(rows: Any) -> tuple[TestCase, ...]:
    return tuple(TestCase(input=row[0], expected=row[1]) for row in rows)


def _rows(tests: Sequence[TestCase]) -> list[list[str | None]]:
    return [[t.input, t.expected] for t in tests]


def _with_tests(
    problem: Problem, public: tuple[TestCase, ...], hidden: tuple[TestCase, ...]
) -> Problem:
    metadata = {**problem.metadata, "prepared": True}
    return dataclasses.replace(problem, public_tests=public, hidden_tests=hidden, metadata=metadata)


async def _prepare_one(
    problem: Problem, engine: Executor, folder: Path | None
) -> tuple[Problem, PreparedProblem]:
    path = folder / f"{_cache_key(problem)}.json" if folder is not None else None
    cached = _from_cache(problem, path) if path is not None else None
    if cached is not None:
        return cached
    failures: list[str] = []
    timed_out = False
    reference = problem.metadata.get("reference_solution")
    hidden = problem.hidden_tests
    recorded = unrecordable = 0
    if _needs_recording(problem) and isinstance(reference, str):
        hidden, unrecordable, failure = await _record_check(problem, reference, engine)
        recorded = len(hidden)
        if failure is not None:
            failures.append(failure)
            timed_out = failure.startswith(Verdict.TIMEOUT.value)
    import asyncio

    (
        (public, public_dropped, public_failures),
        (hidden, hidden_dropped, hidden_failures),
    ) = await asyncio.gather(
        _fill(problem, problem.public_tests, engine), _fill(problem, hidden, engine)
    )
    failures += public_failures + hidden_failures
    timed_out = timed_out or any(f.startswith(Verdict.TIMEOUT.value) for f in failures)
    entry = PreparedProblem(
        problem_id=problem.id,
        hidden_tests=len(hidden),
        recorded=recorded,
        unrecordable=unrecordable,
        public_dropped=public_dropped,
        hidden_dropped=hidden_dropped,
        failures=tuple(failures[:5]),
    )
    if path is not None and not timed_out:
        _write_cache(
            path,
            {
                "public": _rows(public),
                "hidden": _rows(hidden),
                "recorded": recorded,
                "unrecordable": unrecordable,
                "public_dropped": public_dropped,
                "hidden_dropped": hidden_dropped,
                "failures": list(entry.failures),
            },
        )
    return _with_tests(problem, public, hidden), entry


def _describe(verdict: Verdict, error: str | None, where: str) -> str:
    return f"{verdict.value} {where}" + (f": {error}" if error else "")


async def _record_check(
    problem: Problem, reference: str, engine: Executor
) -> tuple[tuple[TestCase, ...], int, str | None]:
    """The hidden tests the check program makes: (tests, unrecordable calls, failure)."""
    recorder = _RECORDER.replace("{entry}", problem.entry_point or "").replace(
        "{marker}", _MARKER.encode("unicode_escape").decode()
    )
    source = f"{reference}\n\n{problem.metadata['check_program']}\n{recorder}"
    result = await engine.arun(
        Program(source, ProblemKind.STDIN), [TestCase("")], limits=REFERENCE_LIMITS
    )
    outcome = result.outcomes[0]
    if outcome.verdict is not Verdict.COMPLETED or outcome.truncated:
        return (), 0, _describe(outcome.verdict, outcome.error, "recording the check")
    tests: list[TestCase] = []
    seen: set[str] = set()
    unrecordable = 0
    for line in outcome.output.split("\n"):
        if not line.startswith(_MARKER):
            continue
        arguments, expected = json.loads(line.removeprefix(_MARKER))
        if arguments is None or expected is None:
            unrecordable += 1
        elif arguments not in seen:
            seen.add(arguments)
            tests.append(TestCase(input=arguments, expected=expected))
    return tuple(tests), unrecordable, None


async def _fill(
    problem: Problem, tests: tuple[TestCase, ...], engine: Executor
) -> tuple[tuple[TestCase, ...], int, list[str]]:
    """``tests`` with missing expected outputs computed: (tests kept, dropped, failures)."""
    missing = [test for test in tests if test.expected is None]
    if not missing:
        return tests, 0, []
    reference = problem.metadata.get("reference_solution")
    if not isinstance(reference, str):
        known = tuple(test for test in tests if test.expected is not None)
        return known, len(missing), ["no reference solution to compute expected outputs"]
    result = await engine.arun(
        Program.for_problem(reference, problem), missing, limits=REFERENCE_LIMITS
    )
    computed: dict[int, str | None] = {}
    failures = []
    for number, (test, outcome) in enumerate(zip(missing, result.outcomes, strict=True)):
        if outcome.verdict is Verdict.COMPLETED and not outcome.truncated:
            computed[id(test)] = outcome.output
        else:
            computed[id(test)] = None
            failures.append(_describe(outcome.verdict, outcome.error, f"on test {number}"))
    kept = []
    for test in tests:
        if test.expected is not None:
            kept.append(test)
        elif computed.get(id(test)) is not None:
            kept.append(TestCase(input=test.input, expected=computed[id(test)]))
    return tuple(kept), len(tests) - len(kept), failures
