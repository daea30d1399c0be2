"""The S* pipeline: every method of the paper over the same stages, and how to run them.

    from codestar.pipeline import Models, SolveConfig, solve
    result = await solve(problem, "sstar", models=Models(backend), engine=engine,
                         config=SolveConfig(samples=8, rounds=2))
    result.program, result.selection.reason, result.to_dict()

The public names below are re-exported lazily (on first attribute access): importing
`codestar.pipeline.config` alone does not load the method registry, the stages and
their prompt templates. ``__all__`` is the supported API; submodules hold the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codestar.lazy import lazy_exports

if TYPE_CHECKING:
    from codestar.pipeline.config import ROLES, Models, Role, SolveConfig
    from codestar.pipeline.methods import METHODS, Method, get_method, register
    from codestar.pipeline.orchestrator import Event, Executor, Progress, Run
    from codestar.pipeline.solver import solve, solve_many
    from codestar.pipeline.trace import (
        Candidate,
        Cluster,
        Comparison,
        GeneratedTest,
        Round,
        Selection,
        SolveResult,
        TestReport,
    )

_HOMES = {
    "Candidate": "trace",
    "Cluster": "trace",
    "Comparison": "trace",
    "Event": "orchestrator",
    "Executor": "orchestrator",
    "GeneratedTest": "trace",
    "METHODS": "methods",
    "Method": "methods",
    "Models": "config",
    "Progress": "orchestrator",
    "ROLES": "config",
    "Role": "config",
    "Round": "trace",
    "Run": "orchestrator",
    "Selection": "trace",
    "SolveConfig": "config",
    "SolveResult": "trace",
    "TestReport": "trace",
    "get_method": "methods",
    "register": "methods",
    "solve": "solver",
    "solve_many": "solver",
}

__all__ = [
    "METHODS",
    "ROLES",
    "Candidate",
    "Cluster",
    "Comparison",
    "Event",
    "Executor",
    "GeneratedTest",
    "Method",
    "Models",
    "Progress",
    "Role",
    "Round",
    "Run",
    "Selection",
    "SolveConfig",
    "SolveResult",
    "TestReport",
    "get_method",
    "register",
    "solve",
    "solve_many",
]


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
