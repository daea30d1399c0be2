"""Running untrusted programs on tests: the sandboxed engine, verdicts and grading.

    Engine          a pool of warm sandboxed workers (`codestar.execution.engine`)
    Program         source + how to run it (stdin or a functional entry point)
    Limits          per-test time, CPU, memory, processes, output
    Verdict         passed, wrong_answer, runtime_error, timeout, memory_limit, ...
    TestOutcome     one program on one test; ProgramResult: on a list of tests

Names are re-exported lazily: a worker process imports only what it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codestar.lazy import lazy_exports

if TYPE_CHECKING:
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

_HOMES = {
    "Engine": "engine",
    "GradingRule": "types",
    "IsolationReport": "isolation",
    "Limits": "types",
    "Program": "types",
    "ProgramResult": "types",
    "TestOutcome": "types",
    "Verdict": "types",
}

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


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
