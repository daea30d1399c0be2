"""The execution engine the pipeline tests run candidates on (one per test module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codestar.execution.engine import Engine
from codestar.execution.types import Limits


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """A real engine with two workers and a 5-second test limit."""
    with Engine(workers=2, limits=Limits(timeout_s=5)) as running:
        yield running
