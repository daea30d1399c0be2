"""The exception tree of codestar.

The library raises these; only the CLI turns them into one-line messages.

    CodestarError
    ├── ProblemFormatError      a problem record or file cannot be read
    ├── SandboxError            the execution engine itself failed (not a program)
    ├── BackendError            a model server failed or refused (after retries)
    │   ├── AuthenticationError
    │   ├── ModelNotFoundError
    │   ├── ContextLengthError
    │   └── BackendUnreachableError
    ├── LocalModelError         the embedded model cannot be prepared or started
    ├── BudgetExceededError     a token, money or call budget is spent
    └── ConfigError             an invalid option, name or parameter

A program that crashes, times out or prints the wrong answer is *not* an exception:
it is a verdict (see `codestar.execution`).
"""

from __future__ import annotations


class CodestarError(Exception):
    """Base class of every error codestar raises on purpose.

    ``hint`` says what the user can do next; the CLI prints it after the message.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} ({self.hint})" if self.hint else base


class ProblemFormatError(CodestarError):
    """A problem record or file is malformed; the message names the record and field."""


class SandboxError(CodestarError):
    """The execution engine failed (a worker died, the kernel refused a limit...)."""


class ConfigError(CodestarError):
    """An option, registry name or parameter is invalid."""


class BackendError(CodestarError):
    """A model backend failed after retries, or refused the request."""


class AuthenticationError(BackendError):
    """The API key was rejected."""


class ModelNotFoundError(BackendError):
    """The server does not serve the requested model."""


class ContextLengthError(BackendError):
    """The prompt plus the requested completion exceed the model's context."""


class BackendUnreachableError(BackendError):
    """The server cannot be reached at all."""


class LocalModelError(CodestarError):
    """The embedded model's weights or server cannot be prepared."""


class BudgetExceededError(CodestarError):
    """A hard budget (tokens, money, calls) is spent; no new work is launched."""
