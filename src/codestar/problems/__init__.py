"""Problems and tests: the data model and the loaders for benchmark formats.

    load_problems(path)          any supported file, format told by content
    load_livecodebench(source)   LiveCodeBench code_generation_lite records
    load_codecontests(source)    CodeContests records
    parse_statement(text)        a Markdown / plain-text statement
    select_problems(problems)    a contest-date window, difficulty, platform
    find_entry_point(code)       the function a functional problem calls
"""

from codestar.problems.codecontests import load_codecontests
from codestar.problems.entrypoint import EntryPoint, find_entry_point
from codestar.problems.livecodebench import (
    decode_private_test_cases,
    load_livecodebench,
    select_problems,
)
from codestar.problems.loading import detect_format, load_problems
from codestar.problems.model import Problem, ProblemKind, TestCase, TestSelection
from codestar.problems.records import LoadResult
from codestar.problems.statement import parse_statement

__all__ = [
    "EntryPoint",
    "LoadResult",
    "Problem",
    "ProblemKind",
    "TestCase",
    "TestSelection",
    "decode_private_test_cases",
    "detect_format",
    "find_entry_point",
    "load_codecontests",
    "load_livecodebench",
    "load_problems",
    "parse_statement",
    "select_problems",
]
