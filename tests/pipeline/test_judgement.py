"""Reading the judge's choice: the asked-for final line, its usual variants, ambiguity."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codestar.pipeline.judgement import parse_choice


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Program B crashes on input 2.\nAnswer: A", "A"),
        ("Answer: B", "B"),
        ("answer: a", "A"),
        ("ANSWER: b.", "B"),
        ("**Answer: A**", "A"),
        ("**Answer:** B", "B"),
        ("Answer: **Program B**", "B"),
        ("Final answer: (A)", "A"),
        ("The final answer is B.", "B"),
        ("Answer - [B]", "B"),
        ("Answer: 'A'", "A"),
        ("Answer: `B`", "B"),
        ("Answer: B (A is wrong on input 3)", "B"),
        ("Answer: A\n\nWait, input 2 shows otherwise.\nAnswer: B", "B"),  # last one wins
        ("Let me check.\n### Answer: A\nThanks for reading!", "A"),
        ("Program A is wrong. Program B is correct.", "B"),
        ("Program A is not correct, so the correct program is B.", "B"),
        ("I believe Program A is the correct one... no: Program B is correct.", "B"),
        ("After comparing outputs:\nB", "B"),
        ("After comparing outputs:\n**A**", "A"),
    ],
)
def test_choice_is_read(text: str, expected: str) -> None:
    assert parse_choice(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        "Both programs are wrong.",
        "The answer is a bit subtle and I cannot decide.",
        "Answer: A or B",
        "Answer: A/B",
        'I must end with "Answer: A" or "Answer: B".',
        "Answer: A, B",
        "Answer: C",
        "Answer:",
        "I cannot tell which one is right.",
    ],
)
def test_no_or_ambiguous_choice_is_none(text: str) -> None:
    assert parse_choice(text) is None


def test_a_long_answer_is_read_from_its_end() -> None:
    reasoning = "Program A prints 3 and Program B prints 4 here. " * 20_000
    assert parse_choice(reasoning + "\nAnswer: B") == "B"


def test_non_string_is_none() -> None:
    assert parse_choice(None) is None  # type: ignore[arg-type]


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_never_raises(text: str) -> None:
    assert parse_choice(text) in (None, "A", "B")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["Answer:", " A", " B", "**", "\n", "Program", " or ", "\x00", "is correct", "🙂", "a"]
        ),
        max_size=30,
    )
)
def test_never_raises_on_answer_like_noise(pieces: list[str]) -> None:
    assert parse_choice("".join(pieces)) in (None, "A", "B")


@pytest.mark.parametrize("piece", ["*", " ", "Answer", "answer: ", "Program A ", "a", "(", "\n"])
def test_long_runs_stay_fast(piece: str) -> None:
    started = time.perf_counter()
    parse_choice(piece * 20_000 + "x")
    assert time.perf_counter() - started < 5


# -- negated and boxed answers (issue 9): a statement against one program chooses the other


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Program A is wrong.", "B"),
        ("Program A is not correct.", "B"),
        ("Program B is incorrect because it ignores negative numbers.", "A"),
        ("A fails on input 2, so B is correct.", "B"),
        ("B fails on input 2.", "A"),
        ("Program A crashes on the second input.", "B"),
        ("Program B gives the wrong output for -3.", "A"),
        ("The incorrect program is A.", "B"),
        ("The wrong one is B", "A"),
        ("Answer: A is wrong", "B"),
        ("Answer: B is wrong, A is right", "A"),
        ("So the result is \\boxed{A}", "A"),
        ("\\boxed{\\text{B}}", "B"),
        ("$\\boxed{Program B}$", "B"),
        ("Program A is wrong at first sight, but on reflection Program A is correct.", "A"),
    ],
)
def test_negated_and_boxed_answers(text: str, expected: str) -> None:
    assert parse_choice(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a fails to see the point", None),  # "a" is an article, not program A
        ("\\boxed{A} or \\boxed{B}", None),  # two boxes that disagree
        ("Program A is wrong. Program A is correct.", "A"),  # the last claim wins
    ],
)
def test_articles_conflicts_and_second_thoughts(text: str, expected: str | None) -> None:
    assert parse_choice(text) == expected


def _swap_letters(text: str) -> str:
    """The text with the standalone letters A and B (either case) exchanged."""
    return re.sub(r"(?<![^\W\d_])[ABab](?![^\W\d_])", lambda m: m[0].translate(_SWAP), text)


_SWAP = str.maketrans("ABab", "BAba")


_NEUTRAL = st.sampled_from(
    [
        "Program A prints 3 on input 1.",
        "On input 2, program B returns -2.",
        "Both programs read n first.",
        "Let me trace the loop for n = 5.",
        "The expected output is 4.",
        "Program B uses a dictionary.",
        "Hmm, a bit tricky.",
        "Wait.",
    ]
)
# (template, whether it chooses the letter it names)
_DECISIONS = st.sampled_from(
    [
        ("Answer: {x}", True),
        ("**Final answer:** ({x})", True),
        ("Program {x} is correct.", True),
        ("The correct program is {x}.", True),
        ("\\boxed{{{x}}}", True),
        ("Program {x} is wrong.", False),
        ("Program {x} is not correct.", False),
        ("{x} fails on input 2.", False),
        ("Program {x} gives the wrong output on input 1.", False),
        ("The incorrect one is {x}.", False),
        ("Answer: {x} is wrong", False),
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(_NEUTRAL, max_size=6),
    _DECISIONS,
    st.sampled_from(["A", "B"]),
    st.sampled_from(["", "\n", "\n\n", " "]),
)
def test_the_closing_decision_is_read_with_its_polarity(
    reasoning: list[str], decision: tuple[str, bool], letter: str, gap: str
) -> None:
    template, chooses = decision
    text = " ".join(reasoning) + gap + template.format(x=letter)
    expected = letter if chooses else ("B" if letter == "A" else "A")
    assert parse_choice(text) == expected


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            _NEUTRAL,
            _DECISIONS.map(lambda d: d[0].format(x="A")),
            _DECISIONS.map(lambda d: d[0].format(x="B")),
            st.text(alphabet="AB ab.:\n*(){}\\", max_size=12),
        ),
        max_size=8,
    )
)
def test_swapping_the_letters_swaps_the_answer(pieces: list[str]) -> None:
    # No reading is biased towards one letter: a consistent reversal cannot hide behind
    # the order-swapped second judgement.
    text = " ".join(pieces)
    answer = parse_choice(text)
    swapped = {"A": "B", "B": "A", None: None}[answer]
    assert parse_choice(_swap_letters(text)) == swapped
