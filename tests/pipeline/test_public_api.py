"""`codestar.pipeline` re-exports a pinned public API, lazily."""

from __future__ import annotations

import subprocess
import sys

import codestar.pipeline as pipeline

PINNED = {
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
}


def test_all_is_pinned_and_every_name_resolves() -> None:
    assert set(pipeline.__all__) == PINNED and len(pipeline.__all__) == len(PINNED)
    for name in PINNED:
        assert getattr(pipeline, name) is not None
    assert "sstar" in pipeline.METHODS and pipeline.get_method("sstar") is pipeline.METHODS["sstar"]
    assert pipeline.solve.__module__ == "codestar.pipeline.solver"


def test_unknown_names_raise_attribute_error() -> None:
    try:
        pipeline.nothing_here  # noqa: B018
    except AttributeError as error:
        assert "nothing_here" in str(error)
    else:
        raise AssertionError("expected AttributeError")


def test_importing_the_package_loads_no_stage() -> None:
    code = (
        "import sys, codestar.pipeline; from codestar.pipeline import SolveConfig; "
        "print(sorted(m for m in sys.modules if m.startswith('codestar.pipeline.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "codestar.pipeline.config" in loaded
    assert "codestar.pipeline.methods" not in loaded and "stages" not in loaded


def test_the_orchestrator_does_not_import_the_method_registry() -> None:
    """No import circle: registry -> stages -> orchestrator, and never back."""
    import subprocess
    import sys

    code = (
        "import sys, codestar.pipeline.orchestrator, codestar.pipeline.stages;"
        "print('codestar.pipeline.methods' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
