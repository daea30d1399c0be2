"""pass@k: the unbiased estimator of Chen et al. (2021) and its mean over problems.

    >>> pass_at_k(n=4, c=1, k=1)
    0.25
    >>> pass_at_k(n=4, c=2, k=4)
    1.0

It does not run anything; give it counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import comb


def pass_at_k(*, n: int, c: int, k: int) -> float:
    """Probability that at least one of k programs drawn from n (c correct) is correct."""
    if not 0 <= c <= n or k < 1:
        raise ValueError(f"need 0 <= c <= n and k >= 1, got n={n} c={c} k={k}")
    if k > n:
        raise ValueError(f"k={k} is larger than the {n} programs")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def mean_pass_at_k(results: Mapping[str, Sequence[bool]], k: int) -> float | None:
    """Mean pass@k over the problems that have at least k programs (None if none has)."""
    scores = [
        pass_at_k(n=len(flags), c=sum(flags), k=k) for flags in results.values() if len(flags) >= k
    ]
    return sum(scores) / len(scores) if scores else None
