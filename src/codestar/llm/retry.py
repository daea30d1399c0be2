"""Retrying transient model-server failures: exponential backoff, jitter, ``Retry-After``.

`RetryPolicy` says how often and how long to wait; `retry` runs an async attempt until it
succeeds, fails permanently, or the attempts are used up. An attempt signals a transient
failure by raising `TransientError` (carrying the server's ``Retry-After``, if any); any
other exception passes through at once. Classifying HTTP errors into transient or final
is the backend's job (see `codestar.llm.openai_backend`), not this module's.

    >>> RetryPolicy(base_delay_s=0.5, max_delay_s=4.0, jitter=0.0).delay(3)
    4.0
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


class TransientError(Exception):
    """An attempt failed in a way that another attempt may fix (429, 5xx, timeout...).

    ``reason`` is a short phrase for the final error message ("HTTP 503", "timed out");
    ``retry_after_s`` is the wait the server asked for, if it said.
    """

    def __init__(
        self,
        reason: str,
        *,
        retry_after_s: float | None = None,
        unreachable: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s
        #: True when the server could not be connected to at all (connection refused).
        self.unreachable = unreachable


class RetriesExhaustedError(Exception):
    """Every attempt failed transiently; ``last`` is the final attempt's failure."""

    def __init__(self, last: TransientError, attempts: int) -> None:
        super().__init__(f"{last.reason} (after {attempts} attempts)")
        self.last = last
        self.attempts = attempts


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How many times to retry and how long to wait in between.

    The n-th retry waits ``base_delay_s * 2**n`` capped at ``max_delay_s``, scaled by a
    random factor in ``[1 - jitter, 1]`` so that many clients do not retry in lockstep.
    A server's ``Retry-After`` replaces the computed wait (capped at
    ``max_retry_after_s``, so a confused server cannot park a run for a day).
    """

    max_retries: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    jitter: float = 0.5
    max_retry_after_s: float = 300.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter must be within [0, 1], got {self.jitter}")

    def delay(self, retry_number: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait before retry ``retry_number`` (0 for the first retry)."""
        if retry_after_s is not None:
            return max(0.0, min(retry_after_s, self.max_retry_after_s))
        backoff = min(self.max_delay_s, self.base_delay_s * 2.0**retry_number)
        return backoff * (1.0 - self.jitter * random.random())


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """The wait a response asks for, from ``retry-after-ms`` or ``retry-after``.

    ``retry-after`` is either seconds or an HTTP date (RFC 9110); unparsable values
    count as absent rather than failing the request.

        >>> parse_retry_after({"retry-after": "2"})
        2.0
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    milliseconds = lowered.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return float(milliseconds) / 1000.0
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


async def retry(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``attempt`` until it returns, raising `RetriesExhaustedError` when out of tries.

    Only `TransientError` is retried; every other exception propagates unchanged.
    """
    for retry_number in range(policy.max_retries + 1):
        try:
            return await attempt()
        except TransientError as failure:
            if retry_number == policy.max_retries:
                raise RetriesExhaustedError(failure, retry_number + 1) from failure
            await sleep(policy.delay(retry_number, failure.retry_after_s))
    raise AssertionError("unreachable: the loop returns or raises")
