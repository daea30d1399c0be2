"""Load EvalPlus's JSONL (HumanEval+, MBPP+, and MBPP's base tests) as functional problems.

A record has ``task_id``, ``prompt``, ``entry_point``, ``canonical_solution``,
``base_input`` and ``plus_input`` (lists of argument lists) and ``atol``. HumanEval+'s
canonical solution is the body that completes the prompt; MBPP+'s is a whole program
(its prompt is a task description with one ``assert`` example).

* **public tests**: the calls of the entry point in the prompt (docstring examples, or
  MBPP's ``assert`` line); failing that, the first base input.
* **hidden tests**: ``base_input`` (``tests="base"``: EvalPlus's "base" score, i.e. the
  original MBPP or HumanEval tests) or ``base_input + plus_input`` (``tests="plus"``).
* **expected outputs**: left ``None``; `codestar.evaluation.prepare` runs the canonical
  solution (``metadata["reference_solution"]``) in the sandbox to fill them, as EvalPlus
  does with its ground truth.

Comparison follows EvalPlus where the engine can express it (see docs/problems.md):
``metadata["atol"]`` becomes EvalPlus's ``np.allclose`` rule (``atol``, ``1e-6`` when it
is 0, and ``rtol=1e-7``); tuples and lists are both JSON arrays here. The MBPP tasks
EvalPlus grades with a special oracle (set equality, "not None") are marked in
``metadata["evalplus_oracle"]``. Set-equality tasks are graded as sets. For
"not None" tasks EvalPlus's ground truth is ``reference(...) is not None`` (the reference
returns a ``re.Match``), so the reference solution here is wrapped to return exactly that
and a candidate returning a boolean is graded as EvalPlus grades it.

It does not download EvalPlus data: give a file, or let `evalplus_cache_file` find the
one EvalPlus keeps in its cache (``~/.cache/evalplus``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from codestar.errors import ConfigError
from codestar.problems.examples import arguments_input, example_tests
from codestar.problems.model import Problem, ProblemKind, TestCase
from codestar.problems.records import LoadResult, RecordFields, RecordSource, build_problems

__all__ = ["EVALPLUS_FIELDS", "evalplus_cache_file", "load_evalplus"]

EVALPLUS_FIELDS = frozenset(
    {"task_id", "prompt", "entry_point", "canonical_solution", "base_input"}
)
"""The keys every EvalPlus record has (how `codestar.problems.loading` tells the format)."""

TestSet = Literal["base", "plus"]
"""Which EvalPlus tests are hidden: the base tests, or base + plus."""

# EvalPlus's special oracles for MBPP+ (evalplus/eval/_special_oracle.py), by entry point.
_SET_EQUAL = frozenset(
    {
        "similar_elements",
        "find_char_long",
        "common_in_nested_lists",
        "extract_singly",
        "larg_nnum",
        "intersection_array",
        "find_dissimilar",
        "Diff",
    }
)
_NOT_NONE = frozenset({"check_str", "text_match_three", "text_starta_endb"})

_NOT_NONE_WRAPPER = """

_codestar_reference_{entry} = {entry}


def {entry}(*arguments):
    return _codestar_reference_{entry}(*arguments) is not None
"""

_CACHE_PREFIX = {"humanevalplus": "HumanEvalPlus", "mbppplus": "MbppPlus"}


def evalplus_cache_file(dataset: Literal["humanevalplus", "mbppplus"]) -> Path:
    """The newest full (not Mini, not NoExtreme) dataset file in EvalPlus's cache.

    Raises `ConfigError` saying where it looked and how to give a file instead.
    """
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "evalplus"
    prefix = _CACHE_PREFIX[dataset]
    found = sorted(
        path
        for path in base.glob(f"{prefix}-*.jsonl")
        if "Mini" not in path.name and "NoExtreme" not in path.name
    )
    if not found:
        raise ConfigError(
            f"no {prefix} file in EvalPlus's cache ({base})",
            hint=f"pass the dataset file with --path, e.g. --path {prefix}-v0.2.0.jsonl",
        )
    return found[-1]


def load_evalplus(
    source: RecordSource, *, tests: TestSet = "plus", strict: bool = False
) -> LoadResult:
    """EvalPlus problems from a path or records; ``tests`` picks base or base + plus."""
    if tests not in ("base", "plus"):
        raise ValueError(f"tests must be 'base' or 'plus', got {tests!r}")

    def build(record: Mapping[str, Any], index: int) -> Problem:
        return _problem_from_record(record, index, tests)

    return build_problems(source, build, benchmark="EvalPlus", strict=strict)


def _inputs(fields: RecordFields, field: str) -> tuple[TestCase, ...]:
    value = fields.record.get(field, [])
    if not isinstance(value, list):
        fields.fail(field, "must be a list of argument lists")
    tests = []
    for number, arguments in enumerate(value):
        if not isinstance(arguments, list):
            fields.fail(field, f"input {number} is not a list of arguments")
        text = arguments_input(arguments)
        if text is None:
            fields.fail(field, f"input {number} holds a value JSON cannot carry")
        tests.append(TestCase(input=text, expected=None))
    return tuple(tests)


def _problem_from_record(record: Mapping[str, Any], index: int, tests: TestSet) -> Problem:
    fields = RecordFields(record, index, benchmark="EvalPlus", id_field="task_id")
    task_id = fields.text("task_id", required=True)
    prompt = fields.text("prompt", required=True)
    entry_point = fields.text("entry_point", required=True).strip()
    solution = fields.text("canonical_solution", required=True)
    atol = record.get("atol", 0) or 0
    if not isinstance(atol, int | float) or isinstance(atol, bool) or atol < 0:
        fields.fail("atol", "must be a non-negative number")
    base = _inputs(fields, "base_input")
    plus = _inputs(fields, "plus_input") if tests == "plus" else ()
    if not base + plus:
        fields.fail("base_input", "is empty")
    # HumanEval+ completes the prompt; MBPP+ ships a whole program.
    standalone = f"def {entry_point}" in solution
    reference = solution if standalone else prompt + solution
    public = example_tests(prompt, entry_point) or base[:1]
    oracle = None
    if entry_point in _SET_EQUAL:
        oracle = "set"
    elif entry_point in _NOT_NONE:
        oracle = "not_none"
        reference += _NOT_NONE_WRAPPER.format(entry=entry_point)
    is_mbpp = task_id.lower().startswith("mbpp")
    return Problem(
        id=task_id,
        statement=prompt.strip() if is_mbpp else prompt,
        kind=ProblemKind.FUNCTIONAL,
        public_tests=public,
        hidden_tests=_unique(base + plus),
        starter_code="" if is_mbpp else prompt,
        entry_point=entry_point,
        title=task_id,
        platform="mbpp" if is_mbpp else "humaneval",
        metadata={
            "source": "evalplus",
            "tests": tests,
            "reference_solution": reference,
            "atol": float(atol),
            "evalplus_oracle": oracle if is_mbpp else None,
            "base_tests": len(base),
        },
    )


def _unique(tests: tuple[TestCase, ...]) -> tuple[TestCase, ...]:
    """The tests without repeated inputs, in order (EvalPlus has a few duplicates)."""
    seen: set[str] = set()
    kept = []
    for test in tests:
        if test.input not in seen:
            seen.add(test.input)
            kept.append(test)
    return tuple(kept)
