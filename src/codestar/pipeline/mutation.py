"""Test inputs that need no model: type-aware mutations of the public tests' inputs.

EvalPlus-style: a public input is valid by construction, so small edits of it are
likely valid too, and they reach the cases a weak input writer misses. Functional
inputs are one JSON value per argument; each value is mutated by its type (integers
nudged by one, negated, set to 0 or to a stated bound; lists shortened, extended,
shuffled, reversed, sorted, emptied, cut to one element, one element repeated in place
(equal neighbours, the tie a strict comparison gets wrong) or one element mutated;
strings with a character deleted, repeated, swapped or replaced, emptied or cut to one
character; booleans flipped). Stdin inputs are mutated in
their structure: a number nudged or set to a bound, a line of tokens shuffled, and a
line shortened or extended by one token *together with* the number on an earlier
line that counts its tokens, so that "3 / 1 2 3" becomes "2 / 1 2" and not "3 / 1 2".

Sizes stay within what the statement states when it states them in the usual form
(``1 <= n <= 10^5``, ``-10^9 <= nums[i] <= 10^9``, ``1 <= s.length <= 100``; see
`bounds_of`), and every mutant stays small (it is at most a few elements longer than
the input it came from).

What this module deliberately does not do: run anything or decide that a mutant is
valid. A mutant that breaks a constraint nobody parsed makes most candidates crash,
and the clustering stage drops such inputs (see `codestar.pipeline.stages.clustering`).
Mutation is seeded: the same problem and seed give the same mutants.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from codestar.problems.model import Problem, ProblemKind

#: Mutants of one public input are tried at most this many times each.
_TRIES = 12
#: A number written as ``10^5``, ``10**5``, ``1e5``, ``2 * 10^5``, ``2 \cdot 10^{5}``,
#: ``-10^9``; it must not go on as a product or power we do not read.
_TIMES = r"(?:\*|\\cdot|\\times|×|·)"
_POWER = r"(?:\^|\*\*)\s*\{?\s*\d+\s*\}?"
_NUMBER = (
    rf"-?\s*\d+(?:\s*{_TIMES}\s*10\s*{_POWER}|\s*{_POWER}|[eE]\d+)?"
    rf"(?![ \t]*(?:{_TIMES}|\^|\d|\.\d))"
)
_LE = r"(?:<=|≤|&le;|\\leq|\\le)"
_CONSTRAINT = re.compile(
    rf"(?P<low>{_NUMBER})\s*{_LE}\s*(?P<what>[^<>≤\n]{{1,40}}?)\s*{_LE}\s*(?P<high>{_NUMBER})"
)
_LENGTH_WORDS = re.compile(r"length|len\(|size|\bn\b|\bm\b|count", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Bounds:
    """What the statement says about sizes: the range of values and of lengths.

    ``None`` where the statement states nothing in a form `bounds_of` reads.
    """

    values: tuple[int, int] | None = None
    lengths: tuple[int, int] | None = None

    def value_ok(self, value: int) -> bool:
        return self.values is None or self.values[0] <= value <= self.values[1]

    def length_ok(self, length: int) -> bool:
        low, high = self.lengths or (0, 10**9)
        return low <= length <= high


def _number(text: str) -> int | None:
    """``"2 * 10^5"`` -> 200000; None when it is not one of the accepted forms.

    >>> [_number(t) for t in ("10^5", "-10**9", "2 * 10^5", "2 × 10^{9}", "1e3", "7")]
    [100000, -1000000000, 200000, 2000000000, 1000, 7]
    """
    compact = re.sub(r"\s+|[{}]", "", text).replace("**", "^")
    compact = re.sub(r"\\cdot|\\times|×|·", "*", compact)
    match = re.fullmatch(r"(-?)(\d+)(?:\*10\^(\d+)|\^(\d+)|[eE](\d+))?", compact)
    if match is None:
        return None
    sign, base, times_ten, power, exponent = match.groups()
    digits = int(base)
    if times_ten is not None:
        digits *= 10 ** min(int(times_ten), 30)
    elif power is not None:
        digits = digits ** min(int(power), 30)
    elif exponent is not None:
        digits *= 10 ** min(int(exponent), 30)
    return -digits if sign else digits


def bounds_of(statement: str) -> Bounds:
    """The value and length ranges a statement states (the widest of each kind).

    >>> bounds_of("1 <= nums.length <= 100\\n-10^4 <= nums[i] <= 10^4")
    Bounds(values=(-10000, 10000), lengths=(1, 100))
    """
    values: list[tuple[int, int]] = []
    lengths: list[tuple[int, int]] = []
    for match in _CONSTRAINT.finditer(statement):
        low, high = _number(match["low"]), _number(match["high"])
        if low is None or high is None or low > high:
            continue
        what = match["what"]
        if _LENGTH_WORDS.search(what) and low >= 0:
            lengths.append((low, high))
        values.append((low, high))  # a length is a value too (n itself is read as one)
    return Bounds(
        values=(min(v[0] for v in values), max(v[1] for v in values)) if values else None,
        lengths=(min(v[0] for v in lengths), max(v[1] for v in lengths)) if lengths else None,
    )


def mutate_inputs(problem: Problem, *, count: int, seed: int = 0) -> tuple[str, ...]:
    """Up to ``count`` distinct mutants of the problem's public inputs, none of them equal
    to a public input; round-robin over the public inputs so each contributes.

    >>> from codestar.problems.model import TestCase
    >>> p = Problem(id="x", statement="1 <= n <= 9", kind=ProblemKind.STDIN,
    ...             public_tests=(TestCase("3\\n", "3\\n"),))
    >>> found = mutate_inputs(p, count=3)
    >>> len(found), all(1 <= int(text) <= 9 and text != "3\\n" for text in found)
    (3, True)
    """
    originals = [t.input for t in problem.public_tests if t.input.strip()]
    if not originals or count < 1:
        return ()
    rng = random.Random(f"mutation:{seed}:{problem.id}")
    bounds = bounds_of(problem.statement)
    mutate: Callable[[str, random.Random, Bounds], str | None] = (
        _mutate_functional if problem.kind is ProblemKind.FUNCTIONAL else _mutate_stdin
    )
    seen = set(originals)
    found: list[str] = []
    for _ in range(max(_TRIES, 4 * count)):
        for original in originals:
            mutant = mutate(original, rng, bounds)
            if mutant is not None and mutant not in seen:
                seen.add(mutant)
                found.append(mutant)
                if len(found) >= count:
                    return tuple(found)
    return tuple(found)


# -- functional: one JSON value per line ---------------------------------------------------


def _mutate_functional(text: str, rng: random.Random, bounds: Bounds) -> str | None:
    try:
        values = [json.loads(line) for line in text.split("\n") if line.strip()]
    except ValueError:
        return None
    if not values:
        return None
    position = rng.randrange(len(values))
    changed = _mutate_value(values[position], rng, bounds)
    if changed is _UNCHANGED:
        return None
    values[position] = changed
    return "\n".join(json.dumps(v) for v in values)


_UNCHANGED: Any = object()


def _mutate_value(value: Any, rng: random.Random, bounds: Bounds) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return _mutate_int(value, rng, bounds)
    if isinstance(value, float):
        return rng.choice([value + 1.0, value - 1.0, 0.0, value / 2, -value])
    if isinstance(value, str):
        return _mutate_string(value, rng, bounds)
    if isinstance(value, list):
        return _mutate_list(value, rng, bounds)
    return _UNCHANGED


def _mutate_int(value: int, rng: random.Random, bounds: Bounds) -> Any:
    options = [value + 1, value - 1, 0, 1, -value, value * 2]
    if bounds.values is not None:
        options.extend(bounds.values)
    options = [o for o in options if o != value and bounds.value_ok(o) and abs(o) <= 10**18]
    return rng.choice(options) if options else _UNCHANGED


def _mutate_string(value: str, rng: random.Random, bounds: Bounds) -> Any:
    if not value:
        return rng.choice("ab") if bounds.length_ok(1) else _UNCHANGED
    i = rng.randrange(len(value))
    alphabet = sorted(set(value)) + (["a"] if value.isalpha() and value.islower() else [])
    edits = [
        value[:i] + value[i + 1 :],  # delete
        value[:i] + value[i] + value[i:],  # repeat
        value[:i] + rng.choice(alphabet) + value[i + 1 :],  # replace
        value[::-1],
        "",  # the boundaries: empty, and one character
        value[i],
    ]
    if len(value) > 1:
        j = min(i + 1, len(value) - 1) if i + 1 < len(value) else i - 1
        chars = list(value)
        chars[i], chars[j] = chars[j], chars[i]
        edits.append("".join(chars))
    edits = [e for e in edits if e != value and bounds.length_ok(len(e))]
    return rng.choice(edits) if edits else _UNCHANGED


def _mutate_list(value: list[Any], rng: random.Random, bounds: Bounds) -> Any:
    edits: list[Callable[[], Any]] = []
    if value:
        edits.append(lambda: value[:-1])
        edits.append(lambda: value[1:])
        edits.append(lambda: [*value, _mutate_or_copy(rng.choice(value), rng, bounds)])
        edits.append(lambda: rng.sample(value, len(value)))
        edits.append(lambda: value[::-1])
        edits.append(lambda: _one_element(value, rng, bounds))
        edits.append(lambda: _duplicate(value, rng))  # equal neighbours: ties
        edits.append(lambda: [rng.choice(value)])  # one element
        if len({type(v) for v in value}) == 1 and isinstance(value[0], int | float | str):
            edits.append(lambda: sorted(value))
    edits.append(list)  # empty
    for _ in range(4):
        mutant = rng.choice(edits)()
        if mutant != value and mutant is not _UNCHANGED and bounds.length_ok(len(mutant)):
            return mutant
    return _UNCHANGED


def _mutate_or_copy(value: Any, rng: random.Random, bounds: Bounds) -> Any:
    changed = _mutate_value(value, rng, bounds)
    return value if changed is _UNCHANGED else changed


def _duplicate(value: list[Any], rng: random.Random) -> list[Any]:
    """One element repeated in place: ``[4, 1, 0]`` -> ``[4, 1, 1, 0]``."""
    i = rng.randrange(len(value))
    return [*value[: i + 1], value[i], *value[i + 1 :]]


def _one_element(value: list[Any], rng: random.Random, bounds: Bounds) -> Any:
    i = rng.randrange(len(value))
    changed = _mutate_value(value[i], rng, bounds)
    if changed is _UNCHANGED:
        return _UNCHANGED
    return [*value[:i], changed, *value[i + 1 :]]


# -- stdin: numbers, lines of tokens, and the counts that describe them ---------------------


def _is_int(token: str) -> bool:
    return re.fullmatch(r"-?\d{1,18}", token) is not None


def _mutate_stdin(text: str, rng: random.Random, bounds: Bounds) -> str | None:
    lines = [line.split() for line in text.rstrip("\n").split("\n")]
    edits: list[Callable[[list[list[str]], random.Random, Bounds], bool]] = [
        _nudge_number,
        _shuffle_line,
        _resize_line,
        _edit_word,
    ]
    for _ in range(4):
        mutant = [list(tokens) for tokens in lines]
        if rng.choice(edits)(mutant, rng, bounds):
            return "\n".join(" ".join(tokens) for tokens in mutant) + "\n"
    return None


def _positions(
    lines: Sequence[Sequence[str]], test: Callable[[str], bool]
) -> list[tuple[int, int]]:
    return [(i, j) for i, tokens in enumerate(lines) for j, t in enumerate(tokens) if test(t)]


def _counts(lines: Sequence[Sequence[str]]) -> set[tuple[int, int]]:
    """Positions of numbers that count the tokens of a later line (left alone by nudges)."""
    found: set[tuple[int, int]] = set()
    for i, tokens in enumerate(lines):
        for j, token in enumerate(tokens):
            if _is_int(token) and any(
                len(later) == int(token) and len(later) > 1 for later in lines[i + 1 :]
            ):
                found.add((i, j))
    return found


def _nudge_number(lines: list[list[str]], rng: random.Random, bounds: Bounds) -> bool:
    counts = _counts(lines)
    spots = [p for p in _positions(lines, _is_int) if p not in counts]
    if not spots:
        return False
    i, j = rng.choice(spots)
    changed = _mutate_int(int(lines[i][j]), rng, bounds)
    if changed is _UNCHANGED:
        return False
    lines[i][j] = str(changed)
    return True


def _shuffle_line(lines: list[list[str]], rng: random.Random, bounds: Bounds) -> bool:
    rows = [i for i, tokens in enumerate(lines) if len(set(tokens)) > 1]
    if not rows:
        return False
    i = rng.choice(rows)
    before = list(lines[i])
    while lines[i] == before:
        rng.shuffle(lines[i])
    return True


def _resize_line(lines: list[list[str]], rng: random.Random, bounds: Bounds) -> bool:
    """Drop or add one token of a line and fix the number that counts that line's tokens."""
    pairs = [
        (count, i)
        for count in sorted(_counts(lines))
        for i in range(count[0] + 1, len(lines))
        if len(lines[i]) == int(lines[count[0]][count[1]])
    ]
    if not pairs:
        return False
    (ci, cj), row = rng.choice(pairs)
    grow = rng.random() < 0.5
    size = len(lines[row]) + (1 if grow else -1)
    if size < 1 or not bounds.length_ok(size) or not bounds.value_ok(size):
        return False
    if grow:
        lines[row].insert(rng.randrange(len(lines[row]) + 1), rng.choice(lines[row]))
    else:
        del lines[row][rng.randrange(len(lines[row]))]
    lines[ci][cj] = str(size)
    return True


def _edit_word(lines: list[list[str]], rng: random.Random, bounds: Bounds) -> bool:
    """Edit a letters-only token in place (its length stays: a count may describe it)."""
    spots = _positions(lines, lambda t: t.isalpha() and len(t) > 1)
    if not spots:
        return False
    i, j = rng.choice(spots)
    word = lines[i][j]
    k = rng.randrange(len(word))
    replacement = rng.choice(sorted(set(word) - {word[k]}) or [word[k]])
    if replacement == word[k]:
        return False
    lines[i][j] = word[:k] + replacement + word[k + 1 :]
    return True
