"""Value types of the LLM layer: messages, sampling parameters, requests, completions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["system", "user", "assistant"]

#: The pipeline stages a request can belong to (used for accounting and budgets).
Stage = Literal["generate", "debug", "inputs", "distinguish", "judge", "tests", "other"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SamplingParams:
    temperature: float = 0.0
    max_tokens: int = 1024
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CompletionRequest:
    """One chat completion to make.

    ``sample_index`` tells apart independent samples of the same prompt at temperature
    above zero: the run store keys cached answers on it, so sample 3 of a prompt is
    answered from the store only by an earlier sample 3. ``stage`` and ``problem_id``
    are for accounting and the run log; they are not sent to the server.
    """

    messages: tuple[Message, ...]
    params: SamplingParams = field(default_factory=SamplingParams)
    sample_index: int = 0
    stage: Stage = "other"
    problem_id: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.calls + other.calls,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Completion:
    """A model's answer.

    ``text`` never contains ``<think>`` sections: those and any ``reasoning_content`` are
    kept in ``reasoning``. ``finish_reason == "length"`` means the answer was cut off.
    ``cached`` is true when the run store answered instead of the server.
    """

    text: str
    finish_reason: str | None = "stop"
    usage: Usage = field(default_factory=Usage)
    latency_s: float = 0.0
    reasoning: str | None = None
    model: str = ""
    cached: bool = False

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"
