"""Counting calls for progress views: in flight by stage, tokens, tokens/s, store hits."""

from __future__ import annotations

import asyncio

import pytest

from codestar.errors import BackendError
from codestar.llm.activity import Activity, WatchedBackend
from codestar.llm.scripted import ScriptedBackend
from codestar.llm.types import Completion, CompletionRequest, Message, Usage


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_busy_time_counts_overlapping_calls_once() -> None:
    clock = Clock()
    changes: list[tuple[str, ...]] = []
    activity = Activity(clock=clock)
    activity.listener = lambda: changes.append(activity.snapshot().in_flight)
    activity.started("generate")
    clock.now = 1.0
    activity.started("debug")
    clock.now = 3.0
    activity.finished("generate", Completion(text="a", usage=Usage(100, 30, 1)))
    clock.now = 4.0
    activity.finished("debug", Completion(text="b", usage=Usage(50, 10, 1)))
    clock.now = 10.0  # idle time is not model time
    snapshot = activity.snapshot()
    assert snapshot.busy_s == 4.0 and snapshot.usage == Usage(150, 40, 2)
    assert snapshot.tokens_per_s == 10.0
    assert changes == [("generate",), ("generate", "debug"), ("debug",), ()]


def test_store_answers_and_failures_are_counted_apart() -> None:
    clock = Clock()
    activity = Activity(clock=clock)
    activity.started("generate")
    activity.finished("generate", Completion(text="x", usage=Usage(9, 9, 1), cached=True))
    activity.started("judge")
    clock.now = 2.0
    activity.finished("judge", None)
    snapshot = activity.snapshot()
    assert snapshot.usage == Usage() and snapshot.tokens_per_s is None
    assert snapshot.cached_calls == 1 and snapshot.failed_calls == 1
    assert snapshot.busy_s == 2.0


def test_a_watched_backend_reports_every_call_even_a_failing_one() -> None:
    activity = Activity()
    request = CompletionRequest(messages=(Message("user", "hi"),), stage="debug")
    seen: list[tuple[str, ...]] = []
    activity.listener = lambda: seen.append(activity.snapshot().in_flight)
    answering = WatchedBackend(ScriptedBackend(["an answer"]), activity)
    assert asyncio.run(answering.complete(request)).text == "an answer"
    failing = WatchedBackend(ScriptedBackend([]), activity)  # out of replies
    with pytest.raises(BackendError):
        asyncio.run(failing.complete(request))
    assert seen == [("debug",), (), ("debug",), ()]
    assert activity.snapshot().failed_calls == 1
    assert answering.model == "scripted"
