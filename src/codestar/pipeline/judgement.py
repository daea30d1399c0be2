"""Reading which program a judge chose.

The judge prompts ask the model to end with a line that is exactly ``Answer: A`` or
``Answer: B``. `parse_choice` accepts the usual deviations (lower case, Markdown bold,
``Answer: Program B``, ``**Final answer:** (A)``), lets the last answer line win (models
often restate their choice), and falls back to a closing statement such as "Program B is
correct" or a last line holding just the letter. It returns None when there is no
choice or the deciding line names both programs.

What this module deliberately does not do: retry, or count wins (the selection stage
asks twice with the order swapped and decides what disagreement means).
"""

from __future__ import annotations

import re
from typing import Literal

Choice = Literal["A", "B"]

#: Only the end of a very long answer is read (the choice is asked for last).
MAX_TEXT_CHARS = 200_000

_DECORATION = re.compile(r"[*_`#>\"']+")
# "Answer: A", "final answer is program b", "Answer - (A)"; the letter must stand alone.
# No two whitespace runs touch (each optional part starts with a non-space), so the
# match is linear even on a line of thousands of spaces.
_ANSWER = re.compile(
    r"\b(?:final\s+)?(?:answer|verdict|choice|decision)\s*(?:is\b\s*)?(?:[:=\-]\s*)?"
    r"(?:(?:program|option|solution)\s*)?(?:[(\[]\s*)?(?P<letter>[ab])(?![\w])",
    re.IGNORECASE,
)
# "Program B is correct", "the correct program is A", "B is the correct one".
_CLAIMS = (
    re.compile(
        r"\b(?:program|solution|option)\s+(?P<letter>[AB])\b[^.\n]{0,40}?\bis\s+"
        r"(?:the\s+)?(?:correct|right|better|valid)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:correct|right|better)\s+(?:one|program|solution|answer|choice)\s+is\s+"
        r"(?:program\s+|solution\s+)?(?P<letter>[AB])\b",
        re.IGNORECASE,
    ),
)
_LONE_LETTER = re.compile(r"(?:program\s+)?[(\[]?(?P<letter>[AB])[)\]]?[.!]?", re.IGNORECASE)
_NEGATED = re.compile(r"\b(?:not|isnt|incorrect|wrong)\b", re.IGNORECASE)


def parse_choice(text: str) -> Choice | None:
    """The program the judge chose, or None when it did not say or said both.

    >>> parse_choice("B fails on input 2.\\n**Answer: A**")
    'A'
    >>> parse_choice("Answer: A or B") is None
    True
    """
    if not isinstance(text, str):
        return None
    text = _DECORATION.sub("", text[-MAX_TEXT_CHARS:].replace("\x00", ""))
    lines = [line for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        answers = [m for m in _ANSWER.finditer(line) if _firm(m, line)]
        if answers:
            if len({m["letter"].upper() for m in answers}) > 1:
                return None  # 'End with "Answer: A" or "Answer: B"' echoed back
            return _only_letter(answers[-1], line)
    claims: list[tuple[int, str]] = []
    for pattern in _CLAIMS:
        claims.extend(
            (match.start(), match["letter"].upper())
            for match in pattern.finditer(text)
            if not _NEGATED.search(match[0])
        )
    if claims:
        return _as_choice(max(claims)[1])
    if lines:
        lone = _LONE_LETTER.fullmatch(lines[-1].strip())
        if lone is not None:
            return _as_choice(lone["letter"].upper())
    return None


def _firm(match: re.Match[str], line: str) -> bool:
    """A lower-case letter counts only after a colon or at the end of the line.

    ("the answer is a bit subtle" does not choose A; "answer: a" does.)
    """
    if match["letter"].isupper():
        return True
    return ":" in match[0] or not line[match.end() :].strip(" .!)]")


def _only_letter(match: re.Match[str], line: str) -> Choice | None:
    """The letter of an answer, or None when its line offers the other one too."""
    letter = match["letter"].upper()
    other = "B" if letter == "A" else "A"
    rest = line[match.end() :]
    if re.search(rf"(?:\bor\b|\band\b|/|,|&)\s*(?:program\s+)?\(?{other}\b", rest, re.I):
        return None
    return _as_choice(letter)


def _as_choice(letter: str) -> Choice | None:
    if letter == "A":
        return "A"
    if letter == "B":
        return "B"
    return None
