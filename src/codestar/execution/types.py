"""Value types of the execution engine: programs, limits, verdicts and outcomes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from codestar.problems.model import Problem, ProblemKind


class Verdict(StrEnum):
    """What happened to one program on one test.

    ``completed`` is for inputs without an expected output (the program ran to its end);
    ``not_run`` is for tests skipped after an earlier failure when stopping early.
    """

    PASSED = "passed"
    WRONG_ANSWER = "wrong_answer"
    RUNTIME_ERROR = "runtime_error"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    COMPLETED = "completed"
    NOT_RUN = "not_run"

    @property
    def ran_cleanly(self) -> bool:
        """True when the program finished normally (right or wrong answer)."""
        return self in (Verdict.PASSED, Verdict.WRONG_ANSWER, Verdict.COMPLETED)


@dataclass(frozen=True, slots=True)
class Program:
    """A candidate program and how to run it.

    ``entry_point`` names the function (or ``Solution`` method) called for functional
    programs; stdin programs run as ``python3 prog.py < input``.
    """

    source: str
    kind: ProblemKind = ProblemKind.STDIN
    entry_point: str | None = None

    @classmethod
    def for_problem(cls, source: str, problem: Problem) -> Program:
        """The program ``source`` as a solution of ``problem``."""
        return cls(source=source, kind=problem.kind, entry_point=problem.entry_point)


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Per-test resource limits.

    timeout_s: wall-clock seconds per test (fractions allowed).
    cpu_s: CPU seconds per test; ``None`` means timeout_s + 1.
    memory_mb: address-space limit of each process.
    processes: how many processes the program may have at once.
    output_bytes: how much a test may print before it is stopped (``output_limit``).
    captured_chars: how much of the output each outcome keeps (the full output is
        still graded and hashed).
    """

    timeout_s: float = 6.0
    cpu_s: float | None = None
    memory_mb: int = 2048
    processes: int = 32
    output_bytes: int = 64 * 1024 * 1024
    captured_chars: int = 64 * 1024

    def __post_init__(self) -> None:
        if not self.timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, got {self.timeout_s}")
        if self.memory_mb < 32:
            raise ValueError(f"memory_mb must be at least 32, got {self.memory_mb}")
        if self.processes < 1:
            raise ValueError(f"processes must be at least 1, got {self.processes}")

    @property
    def effective_cpu_s(self) -> float:
        return self.cpu_s if self.cpu_s is not None else self.timeout_s + 1.0


@dataclass(frozen=True, slots=True)
class GradingRule:
    """How an output is compared with the expected one (see `codestar.execution.grading`).

    The default is LiveCodeBench's rule: exact decimal equality for numbers.
    ``float_tolerance`` is opt-in: alone, numbers match within it as an absolute *or* a
    relative tolerance (``math.isclose``). With ``relative_tolerance`` as well, they
    match when ``|a - e| <= float_tolerance + relative_tolerance * |e|``, NumPy's
    ``allclose`` rule, the one EvalPlus grades with (``atol``, ``rtol=1e-7``).
    ``unordered`` compares a functional result that is a list with the expected list
    as sets (EvalPlus's set-equality tasks: ``set(out) == set(exp)``).
    """

    float_tolerance: float | None = None
    relative_tolerance: float | None = None
    unordered: bool = False

    def __post_init__(self) -> None:
        for name in ("float_tolerance", "relative_tolerance"):
            value = getattr(self, name)
            if value is not None and not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        if self.relative_tolerance is not None and self.float_tolerance is None:
            raise ValueError("relative_tolerance needs float_tolerance (the absolute part)")


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """The result of one program on one test.

    ``output`` is what the program printed (stdin) or the JSON text of its return value
    (functional), cut to ``Limits.captured_chars``; ``output_digest`` is a hash of the
    whole output, so equal outputs can be grouped even when cut. ``error`` is the last
    line of the exception or the reason for a limit verdict.
    """

    __test__ = False

    verdict: Verdict
    elapsed_s: float = 0.0
    output: str = ""
    output_digest: str = ""
    truncated: bool = False
    error: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TestOutcome:
        return cls(
            verdict=Verdict(data["verdict"]),
            elapsed_s=float(data.get("elapsed_s") or 0.0),
            output=str(data.get("output") or ""),
            output_digest=str(data.get("output_digest") or ""),
            truncated=bool(data.get("truncated")),
            error=data.get("error"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "elapsed_s": self.elapsed_s,
            "output": self.output,
            "output_digest": self.output_digest,
            "truncated": self.truncated,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class ProgramResult:
    """One program's outcomes on a list of tests, in test order."""

    outcomes: tuple[TestOutcome, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        """True when there is at least one test and every test passed."""
        return bool(self.outcomes) and all(o.verdict is Verdict.PASSED for o in self.outcomes)

    @property
    def passed_count(self) -> int:
        return sum(o.verdict is Verdict.PASSED for o in self.outcomes)

    @property
    def first_failure(self) -> TestOutcome | None:
        return next((o for o in self.outcomes if o.verdict is not Verdict.PASSED), None)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "outcomes": [o.to_dict() for o in self.outcomes]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProgramResult:
        return cls(tuple(TestOutcome.from_dict(o) for o in data["outcomes"]))

    def output_signature(self) -> tuple[str, ...]:
        """The key under which programs with identical behaviour are clustered.

        Each test contributes its output digest, or the verdict for a run that did not
        finish cleanly (two programs that both time out on a test agree there).
        """
        return tuple(
            o.output_digest if o.verdict.ran_cleanly else f"!{o.verdict.value}"
            for o in self.outcomes
        )
