"""Backoff arithmetic, Retry-After parsing and the retry loop (no network)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from codestar.llm.retry import (
    RetriesExhaustedError,
    RetryPolicy,
    TransientError,
    parse_retry_after,
    retry,
)


def test_backoff_doubles_up_to_the_cap_and_jitter_only_shortens() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=5.0, jitter=0.0)
    assert [policy.delay(n) for n in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    jittered = RetryPolicy(base_delay_s=1.0, max_delay_s=5.0, jitter=0.5)
    delays = [jittered.delay(2) for _ in range(200)]
    assert all(2.0 <= d <= 4.0 for d in delays) and len(set(delays)) > 1


def test_retry_after_replaces_backoff_within_a_cap() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_retry_after_s=60.0)
    assert policy.delay(0, retry_after_s=7.0) == 7.0
    assert policy.delay(0, retry_after_s=3600.0) == 60.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_header_forms(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers) == expected


def test_retry_after_as_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    waited = parse_retry_after({"Retry-After": format_datetime(when, usegmt=True)})
    assert waited is not None and 25 <= waited <= 31


def test_retry_loop_retries_only_transient_failures() -> None:
    attempts: list[int] = []
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise TransientError("HTTP 503", retry_after_s=0.5)
        return "done"

    policy = RetryPolicy(max_retries=5)
    assert asyncio.run(retry(flaky, policy, sleep=sleep)) == "done"
    assert slept == [0.5, 0.5]

    async def always() -> str:
        raise TransientError("HTTP 500")

    with pytest.raises(RetriesExhaustedError, match=r"HTTP 500 \(after 3 attempts\)"):
        asyncio.run(retry(always, RetryPolicy(max_retries=2, base_delay_s=0), sleep=sleep))

    async def broken() -> str:
        raise KeyError("not transient")

    with pytest.raises(KeyError):
        asyncio.run(retry(broken, policy, sleep=sleep))


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)
