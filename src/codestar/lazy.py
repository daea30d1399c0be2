"""Lazy re-exports for package ``__init__`` modules.

A package lists where each public name lives; the name is imported on first access and
then cached in the package. So ``import codestar.llm`` does not load the ``openai``
client, and an execution worker does not load the problem loaders.

    >>> getattr_, dir_ = lazy_exports("codestar.problems", {"TestCase": "model"}, ["TestCase"])
    >>> getattr_("TestCase").__name__
    'TestCase'
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(
    package: str, homes: Mapping[str, str], public: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``: name -> submodule in ``homes``."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(public))

    return __getattr__, __dir__
