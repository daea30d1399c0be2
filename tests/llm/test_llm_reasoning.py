"""Thinking sections never reach the answer text."""

from __future__ import annotations

import pytest

from codestar.llm.reasoning import split_reasoning


@pytest.mark.parametrize(
    ("text", "content", "answer", "reasoning"),
    [
        ("print(1)", None, "print(1)", None),
        ("  code\n", None, "  code\n", None),  # untouched without thinking
        ("<think>a</think>\n```python\nx\n```", None, "```python\nx\n```", "a"),
        ("<think>a</think>mid<think>b</think>end", None, "midend", "a\n\nb"),
        ("<think>cut off while think", None, "", "cut off while think"),
        ("prompt-opened</think>answer", None, "answer", "prompt-opened"),
        ("answer", "separate field", "answer", "separate field"),
        ("<think>x</think>y", "field", "y", "field\n\nx"),
    ],
)
def test_split_reasoning(
    text: str, content: str | None, answer: str, reasoning: str | None
) -> None:
    assert split_reasoning(text, content) == (answer, reasoning)
