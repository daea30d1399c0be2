"""Problems and tests: the data model and the loaders for benchmark formats.

    load_benchmark(name, query)  a registered benchmark (or any file), filtered
    load_problems(path)          any supported file, format told by content
    load_livecodebench(source)   LiveCodeBench code_generation_lite records
    load_codecontests(source)    CodeContests records
    parse_statement(text)        a Markdown / plain-text statement
    select_problems(problems)    a contest-date window, difficulty, platform
    find_entry_point(code)       the function a functional problem calls
    load_humaneval / load_evalplus / load_custom   HumanEval, EvalPlus, codestar's schema

Names are re-exported lazily, so that the execution workers, which need only the model,
do not import the loaders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codestar.lazy import lazy_exports

if TYPE_CHECKING:
    from codestar.problems.benchmarks import (
        BENCHMARKS,
        Benchmark,
        BenchmarkQuery,
        NoHiddenTestsWarning,
        load_benchmark,
    )
    from codestar.problems.codecontests import load_codecontests
    from codestar.problems.custom import load_custom
    from codestar.problems.entrypoint import EntryPoint, find_entry_point
    from codestar.problems.evalplus import load_evalplus
    from codestar.problems.hub import DatasetUnavailableError
    from codestar.problems.humaneval import load_humaneval
    from codestar.problems.livecodebench import (
        decode_private_test_cases,
        load_livecodebench,
        select_problems,
    )
    from codestar.problems.loading import detect_format, load_problems
    from codestar.problems.model import Problem, ProblemKind, TestCase, TestSelection
    from codestar.problems.records import LoadResult
    from codestar.problems.statement import parse_statement

_HOMES = {
    "BENCHMARKS": "benchmarks",
    "Benchmark": "benchmarks",
    "BenchmarkQuery": "benchmarks",
    "DatasetUnavailableError": "hub",
    "NoHiddenTestsWarning": "benchmarks",
    "load_benchmark": "benchmarks",
    "load_custom": "custom",
    "load_evalplus": "evalplus",
    "load_humaneval": "humaneval",
    "EntryPoint": "entrypoint",
    "LoadResult": "records",
    "Problem": "model",
    "ProblemKind": "model",
    "TestCase": "model",
    "TestSelection": "model",
    "decode_private_test_cases": "livecodebench",
    "detect_format": "loading",
    "find_entry_point": "entrypoint",
    "load_codecontests": "codecontests",
    "load_livecodebench": "livecodebench",
    "load_problems": "loading",
    "parse_statement": "statement",
    "select_problems": "livecodebench",
}

__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "BenchmarkQuery",
    "DatasetUnavailableError",
    "EntryPoint",
    "LoadResult",
    "NoHiddenTestsWarning",
    "Problem",
    "ProblemKind",
    "TestCase",
    "TestSelection",
    "decode_private_test_cases",
    "detect_format",
    "find_entry_point",
    "load_benchmark",
    "load_codecontests",
    "load_custom",
    "load_evalplus",
    "load_humaneval",
    "load_livecodebench",
    "load_problems",
    "parse_statement",
    "select_problems",
]


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
