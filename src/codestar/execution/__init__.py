"""Running untrusted programs on tests: the sandboxed engine, verdicts and grading.

Engine          a pool of warm sandboxed workers (`codestar.execution.engine`)
Program         source + how to run it (stdin or a functional entry point)
Limits          per-test time, CPU, memory, processes, output
Verdict         passed, wrong_answer, runtime_error, timeout, memory_limit, ...
TestOutcome     one program on one test; ProgramResult: on a list of tests
"""

from codestar.execution.engine import Engine
from codestar.execution.isolation import IsolationReport
from codestar.execution.types import (
    GradingRule,
    Limits,
    Program,
    ProgramResult,
    TestOutcome,
    Verdict,
)

__all__ = [
    "Engine",
    "GradingRule",
    "IsolationReport",
    "Limits",
    "Program",
    "ProgramResult",
    "TestOutcome",
    "Verdict",
]
