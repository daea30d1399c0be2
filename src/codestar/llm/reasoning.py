"""Separating a reasoning model's thinking from its answer.

Reasoning models (DeepSeek-R1, QwQ, Qwen3...) write ``<think>...</think>`` before the
answer, or return the thinking in a separate ``reasoning_content`` field. The thinking is
kept for the run log but must never reach code extraction, where a code block quoted
while thinking would be taken for the answer. This module only splits text; it does not
parse code.

    >>> split_reasoning("<think>try x</think>print(1)")
    ('print(1)', 'try x')
"""

from __future__ import annotations

import re

_BLOCK = re.compile(r"<think>(.*?)</think>", re.DOTALL)
_OPEN = "<think>"
_CLOSE = "</think>"


def split_reasoning(text: str, reasoning_content: str | None = None) -> tuple[str, str | None]:
    """Return ``(answer, reasoning)`` with every thinking section moved out of the answer.

    Handles complete ``<think>`` blocks anywhere, a ``<think>`` at the start that never
    closes (the answer was cut off while thinking: everything is reasoning), and a lone
    ``</think>`` (chat templates that open the block inside the prompt). A separate
    ``reasoning_content`` is placed first in the reasoning.

        >>> split_reasoning("<think>still thinking")
        ('', 'still thinking')
        >>> split_reasoning("thoughts</think>answer")
        ('answer', 'thoughts')
    """
    if _OPEN not in text and _CLOSE not in text:
        # The common case: leave the answer byte for byte as the server sent it.
        return text, reasoning_content or None
    parts: list[str] = []
    if reasoning_content:
        parts.append(reasoning_content.strip())
    answer = text
    if _CLOSE in answer and _OPEN not in answer.split(_CLOSE, 1)[0]:
        before, answer = answer.split(_CLOSE, 1)
        parts.append(before.strip())
    parts.extend(match.strip() for match in _BLOCK.findall(answer))
    answer = _BLOCK.sub("", answer)
    if answer.lstrip().startswith(_OPEN):
        parts.append(answer.lstrip()[len(_OPEN) :].strip())
        answer = ""
    reasoning = "\n\n".join(part for part in parts if part)
    return answer.strip(), reasoning or None
