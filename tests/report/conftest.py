"""Fixtures of the report tests: one real evaluation run dir, made once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from scripted_run import make_run

from codestar.evaluation.runner import Evaluation
from codestar.execution.engine import Engine
from codestar.execution.types import Limits


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    with Engine(workers=2, limits=Limits(timeout_s=5)) as running:
        yield running


@pytest.fixture(scope="session")
def evaluated(tmp_path_factory: pytest.TempPathFactory, engine: Engine) -> tuple[Path, Evaluation]:
    """The run dir of `scripted_run.PROBLEMS` x `.METHODS`, and what `evaluate` returned."""
    run_dir = tmp_path_factory.mktemp("run")
    return run_dir, make_run(run_dir, engine)


@pytest.fixture(scope="session")
def run_dir(evaluated: tuple[Path, Evaluation]) -> Path:
    return evaluated[0]
