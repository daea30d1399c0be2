"""Loading a benchmark for a command: warnings and unreadable records as stderr lines."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from codestar.cli.common import warn

if TYPE_CHECKING:
    from codestar.problems.benchmarks import Benchmark, BenchmarkQuery


def load_reported(source: str, query: BenchmarkQuery | None = None) -> Benchmark:
    """`load_benchmark`, its warnings and first unreadable records said on stderr."""
    from codestar.problems.benchmarks import BenchmarkQuery, load_benchmark

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_benchmark(source, query or BenchmarkQuery())
    for warning in caught:
        warn(str(warning.message))
    for error in loaded.errors[:3]:
        warn(str(error))
    if len(loaded.errors) > 3:
        warn(f"... and {len(loaded.errors) - 3} more records that could not be read")
    return loaded
