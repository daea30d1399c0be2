"""Reading the judge's choice: the asked-for final line, its usual variants, ambiguity."""

from __future__ import annotations

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
        "Program A is not correct.",
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
