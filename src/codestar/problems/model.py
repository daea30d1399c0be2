"""The problem model: what a coding problem and its tests are.

A problem is either *stdin* (a full program reads standard input and prints) or
*functional* (a named function or ``Solution`` method is called with arguments and its
return value compared). This module only defines the types; loaders live beside it and
execution lives in `codestar.execution`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal

TestSelection = Literal["public", "hidden", "all"]


class ProblemKind(StrEnum):
    """How a program is run: as a whole program on stdin, or by calling a function."""

    STDIN = "stdin"
    FUNCTIONAL = "functional"


@dataclass(frozen=True, slots=True)
class TestCase:
    """One test: an input and, where known, the expected output.

    For stdin problems both are text. For functional problems ``input`` holds one JSON
    value per argument, one per line (LiveCodeBench's format), and ``expected`` one JSON
    value. ``expected`` is ``None`` for inputs whose right answer nobody knows (inputs
    synthesized by a model during selection).
    """

    __test__ = False  # not a pytest class

    input: str
    expected: str | None = None


def _frozen_mapping(value: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True, slots=True)
class Problem:
    """A coding problem with its public tests (usable while solving) and hidden tests."""

    id: str
    statement: str
    kind: ProblemKind
    public_tests: tuple[TestCase, ...] = ()
    hidden_tests: tuple[TestCase, ...] = ()
    starter_code: str = ""
    entry_point: str | None = None
    title: str = ""
    platform: str = ""
    difficulty: str | None = None
    contest_date: datetime | None = None
    metadata: Mapping[str, Any] = field(default_factory=_frozen_mapping, compare=False)

    def __post_init__(self) -> None:
        if self.kind is ProblemKind.FUNCTIONAL and not self.entry_point:
            raise ValueError(f"functional problem {self.id!r} needs an entry point")

    def tests(self, which: TestSelection = "all") -> tuple[TestCase, ...]:
        """The public tests, the hidden tests, or both (public first)."""
        if which == "public":
            return self.public_tests
        if which == "hidden":
            return self.hidden_tests
        if which == "all":
            return self.public_tests + self.hidden_tests
        raise ValueError(f"unknown test selection {which!r}: use public, hidden or all")
