"""codestar: test-time scaling for LLM code generation (S*)."""

from codestar.errors import CodestarError
from codestar.problems.model import Problem, ProblemKind, TestCase

__version__ = "0.1.0"

__all__ = ["CodestarError", "Problem", "ProblemKind", "TestCase", "__version__"]
