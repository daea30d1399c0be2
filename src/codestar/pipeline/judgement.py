"""Reading which program a judge chose.

The judge prompts ask the model to end with a line that is exactly ``Answer: A`` or
``Answer: B``. `parse_choice` accepts the usual deviations (lower case, Markdown bold,
``Answer: Program B``, ``**Final answer:** (A)``, ``\\boxed{A}``), lets the last answer
line win (models often restate their choice), and falls back to the last closing
statement about one program: "Program B is correct" chooses B, and so do the negated
forms "Program A is wrong", "A fails on input 2" and "the incorrect one is A" (a
negative statement about one program chooses the other). It returns None when there
is no choice or the deciding line names both programs.

The rules are symmetric in the two letters: swapping A and B in the text swaps the
answer (a property test checks it), so the order-swapped second judgement cannot agree
with the first through a parsing bias.

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
# "\boxed{A}", "\boxed{\text{B}}", "\boxed{Program A}" (math-trained models write it).
_BOXED = re.compile(
    r"\\boxed\{\s*(?:\\text\{\s*)?(?:program\s+)?(?P<letter>[AB])\s*\}?\s*\}",
    re.IGNORECASE,
)
# A bare capital letter names a program only as a capital ("a fails" is English).
_NAMED = r"\b(?:(?:program|solution|option)\s+(?P<letter>[AB])|(?-i:(?P<bare>[AB])))\b"
# Between a program's name and what is said of it: no other capital A or B (the
# statement would be about that one).
_FILLER = r"(?-i:[^.\nAB]){0,40}?"
_GOOD = r"(?:correct|right|better|valid)\b"
_BAD = (
    r"(?:wrong|incorrect|buggy|flawed|invalid|not\s+(?:the\s+)?(?:correct|right|valid)"
    r"|isnt\s+(?:correct|right))\b"
)
# Statements about one program; ``good`` says whether they choose it or the other.
_CLAIMS: tuple[tuple[re.Pattern[str], bool], ...] = (
    # "Program B is correct", "B is the correct one".
    (re.compile(_NAMED + _FILLER + r"\bis\s+(?:the\s+)?(?:only\s+)?" + _GOOD, re.I), True),
    # "the correct program is A".
    (
        re.compile(
            r"\b(?:correct|right|better)\s+(?:one|program|solution|answer|choice)\s+is\s+"
            r"(?:program\s+|solution\s+)?(?P<letter>[AB])\b",
            re.IGNORECASE,
        ),
        True,
    ),
    # "Program A is wrong", "A is not correct", "A is incorrect".
    (re.compile(_NAMED + _FILLER + r"\bis\s+(?:the\s+)?" + _BAD, re.I), False),
    # "A fails on input 2", "Program B crashes", "A gives the wrong output".
    (
        re.compile(
            _NAMED + r"\s+(?:fails|crashes|(?:gives|prints|returns|produces|outputs)\s+"
            r"(?:the\s+|a\s+|an\s+)?(?:wrong|incorrect))\b",
            re.IGNORECASE,
        ),
        False,
    ),
    # "the wrong one is A", "the incorrect program is B".
    (
        re.compile(
            r"\b(?:wrong|incorrect|buggy)\s+(?:one|program|solution)\s+is\s+"
            r"(?:program\s+|solution\s+)?(?P<letter>[AB])\b",
            re.IGNORECASE,
        ),
        False,
    ),
)
_LONE_LETTER = re.compile(r"(?:program\s+)?[(\[]?(?P<letter>[AB])[)\]]?[.!]?", re.IGNORECASE)
# After "Answer: A": words that turn the answer into a statement that A is wrong.
_ANSWER_NEGATED = re.compile(r"\s*(?:is\s+(?:the\s+)?)?" + _BAD + r"|\s*fails\b", re.I)
# Inside a positive claim: "Program A, which is not..., is correct" is not a claim.
_NEGATED = re.compile(r"\b(?:not|isnt|incorrect|wrong)\b", re.IGNORECASE)


def parse_choice(text: str) -> Choice | None:
    """The program the judge chose, or None when it did not say or said both.

    >>> parse_choice("B fails on input 2.\\n**Answer: A**")
    'A'
    >>> parse_choice("Program A is wrong on input 3.")
    'B'
    >>> parse_choice("Answer: A or B") is None
    True
    """
    if not isinstance(text, str):
        return None
    text = text[-MAX_TEXT_CHARS:].replace("\x00", "")
    boxed = list(_BOXED.finditer(text))
    text = _DECORATION.sub("", text)
    lines = [line for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        answers = [m for m in _ANSWER.finditer(line) if _firm(m, line)]
        if answers:
            if len({m["letter"].upper() for m in answers}) > 1:
                return None  # 'End with "Answer: A" or "Answer: B"' echoed back
            return _only_letter(answers[-1], line)
    if boxed:
        if len({m["letter"].upper() for m in boxed}) > 1:
            return None
        return _as_choice(boxed[-1]["letter"].upper())
    claims: list[tuple[int, str]] = []
    for pattern, good in _CLAIMS:
        for match in pattern.finditer(text):
            if good and _NEGATED.search(match[0]):
                continue
            letter = (match["letter"] or match.groupdict().get("bare") or "").upper()
            claims.append((match.start(), letter if good else _other(letter)))
    if claims:
        return _as_choice(max(claims)[1])
    if lines:
        lone = _LONE_LETTER.fullmatch(lines[-1].strip())
        if lone is not None:
            return _as_choice(lone["letter"].upper())
    return None


def _other(letter: str) -> str:
    return {"A": "B", "B": "A"}.get(letter, "")


def _firm(match: re.Match[str], line: str) -> bool:
    """A lower-case letter counts only after a colon or at the end of the line.

    ("the answer is a bit subtle" does not choose A; "answer: a" does.)
    """
    if match["letter"].isupper():
        return True
    return ":" in match[0] or not line[match.end() :].strip(" .!)]")


def _only_letter(match: re.Match[str], line: str) -> Choice | None:
    """The letter of an answer, or None when its line offers the other one too; "Answer:
    A is wrong" chooses B."""
    letter = match["letter"].upper()
    other = _other(letter)
    rest = line[match.end() :]
    if _ANSWER_NEGATED.match(rest):
        return _as_choice(other)
    if re.search(rf"(?:\bor\b|\band\b|/|,|&)\s*(?:program\s+)?\(?{other}\b", rest, re.I):
        return None
    return _as_choice(letter)


def _as_choice(letter: str) -> Choice | None:
    if letter == "A":
        return "A"
    if letter == "B":
        return "B"
    return None
