"""Problems and tests: the data model and the loaders for benchmark formats."""

from codestar.problems.model import Problem, ProblemKind, TestCase, TestSelection

__all__ = ["Problem", "ProblemKind", "TestCase", "TestSelection"]
