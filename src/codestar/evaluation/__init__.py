"""Benchmark evaluation: run methods over many problems, grade, summarize, resume.

    from codestar.evaluation import EvalConfig, evaluate
    run = await evaluate(problems, models=Models(backend), engine=engine,
                         config=EvalConfig(methods=("sstar", "majority-vote")),
                         run_dir="runs/humaneval")
    run.summary.method("sstar").pass_at_1.value

The layer sits above `codestar.pipeline` (which solves one problem) and below the CLI
(`codestar eval`, `codestar grade`). Names are re-exported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codestar.lazy import lazy_exports

if TYPE_CHECKING:
    from codestar.evaluation.generations import Generation, read_generations, write_generations
    from codestar.evaluation.manifest import build_manifest, read_manifest, reconcile
    from codestar.evaluation.passk import mean_pass_at_k, pass_at_k
    from codestar.evaluation.results import ResultRow, ResultsFile, StageUsage
    from codestar.evaluation.runner import EvalConfig, Evaluation, evaluate
    from codestar.evaluation.summary import MethodSummary, Rate, Summary, summarize, wilson_interval

_HOMES = {
    "EvalConfig": "runner",
    "Evaluation": "runner",
    "Generation": "generations",
    "MethodSummary": "summary",
    "Rate": "summary",
    "ResultRow": "results",
    "ResultsFile": "results",
    "StageUsage": "results",
    "Summary": "summary",
    "build_manifest": "manifest",
    "evaluate": "runner",
    "mean_pass_at_k": "passk",
    "pass_at_k": "passk",
    "read_generations": "generations",
    "read_manifest": "manifest",
    "reconcile": "manifest",
    "summarize": "summary",
    "wilson_interval": "summary",
    "write_generations": "generations",
}

__all__ = [
    "EvalConfig",
    "Evaluation",
    "Generation",
    "MethodSummary",
    "Rate",
    "ResultRow",
    "ResultsFile",
    "StageUsage",
    "Summary",
    "build_manifest",
    "evaluate",
    "mean_pass_at_k",
    "pass_at_k",
    "read_generations",
    "read_manifest",
    "reconcile",
    "summarize",
    "wilson_interval",
    "write_generations",
]

__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
