from __future__ import annotations

from collections.abc import Iterator

import pytest

from codestar.execution.engine import Engine
from codestar.execution.types import Limits


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """One warm engine for the whole session: the tests also prove it stays healthy."""
    with Engine(workers=2, limits=Limits(timeout_s=2.0, memory_mb=512)) as shared:
        yield shared
