"""Rendering the prompt of each pipeline stage from its template file.

Templates live in ``codestar/pipeline/prompts/`` as ``<stage>.<kind>.txt`` (or
``<stage>.txt`` when stdin and functional problems share it). A template has a
``[system]`` and a ``[user]`` section and ``$name`` placeholders (`string.Template`; ``$$``
is a literal dollar). `render` fills the fields taken from the problem itself and the
ones the caller gives, and refuses (``ConfigError``) a missing or unknown field.

The structured parts (the debug history, the two programs' actual outputs for the judge)
are typed values formatted by `format_feedback` and `format_observations`; every output,
input and error they show is cut to `FIELD_CHARS` characters so that prompts stay within
a small model's context. Prompts are budgeted in tokens (`estimate_tokens`, at
`CHARS_PER_TOKEN`): given ``budget_chars``, `format_feedback` drops the *oldest*
attempts first (the newest feedback is what the model must act on) and
`format_observations` shortens every field, then drops the last observations.

What this module deliberately does not do: call a model, parse its answer
(`codestar.pipeline.extraction`, `.inputs`, `.judgement`), or decide what a stage sends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from string import Template
from typing import Final

from codestar.errors import ConfigError
from codestar.execution.types import TestOutcome, Verdict
from codestar.llm.types import Message, Role
from codestar.problems.model import Problem, ProblemKind, TestCase

#: The stages that have a template, in pipeline order.
STAGES: Final = (
    "generate",
    "debug",
    "inputs",
    "inputs-retry",
    "distinguish",
    "judge",
    "judge-code",
    "tests",
)
#: A conservative characters-per-token ratio for code and test data (Qwen's tokenizer
#: averages about 3.5 on Python; numbers and symbols take more tokens per character).
CHARS_PER_TOKEN: Final = 3
#: Each input, output, expected output and error shown in a prompt is cut to this length.
FIELD_CHARS: Final = 2_000
#: Code shown in a prompt (an attempt in the debug history, starter code) is cut here.
CODE_CHARS: Final = 12_000
#: Any single field (a program, a statement) is cut to this length as a last guard.
MAX_FIELD_CHARS: Final = 24_000
#: Fields `render` derives from the problem; a template may use any of them.
PROBLEM_FIELDS: Final = frozenset(
    {
        "statement",
        "title",
        "entry_point",
        "call",
        "starter",
        "example_input",
        "example_test",
        "input_format",
        "interface",
    }
)
_TRUNCATION_MARK = "... (truncated)"
_SECTION = re.compile(r"^\[(system|user)\][ \t]*$", re.MULTILINE)

_VERDICT_WORDS: Final[Mapping[Verdict, str]] = {
    Verdict.PASSED: "passed",
    Verdict.WRONG_ANSWER: "wrong answer",
    Verdict.RUNTIME_ERROR: "runtime error",
    Verdict.TIMEOUT: "time limit exceeded",
    Verdict.MEMORY_LIMIT: "memory limit exceeded",
    Verdict.OUTPUT_LIMIT: "output limit exceeded",
    Verdict.COMPLETED: "ran to completion",
    Verdict.NOT_RUN: "not run",
}


@dataclass(frozen=True, slots=True)
class ObservedRun:
    """What one program did on one input: its verdict, output and error (if any)."""

    verdict: Verdict
    output: str = ""
    error: str | None = None

    @classmethod
    def from_outcome(cls, outcome: TestOutcome) -> ObservedRun:
        return cls(verdict=outcome.verdict, output=outcome.output, error=outcome.error)


@dataclass(frozen=True, slots=True)
class TestFeedback:
    """One public test as a debug round shows it: input, expected output, what happened."""

    __test__ = False

    input: str
    expected: str | None
    run: ObservedRun

    @classmethod
    def from_outcome(cls, test: TestCase, outcome: TestOutcome) -> TestFeedback:
        return cls(input=test.input, expected=test.expected, run=ObservedRun.from_outcome(outcome))


@dataclass(frozen=True, slots=True)
class DebugRound:
    """One earlier attempt: its code (empty when none was found) and its test feedback."""

    code: str
    tests: tuple[TestFeedback, ...] = ()


@dataclass(frozen=True, slots=True)
class Observation:
    """One input the judge sees, with what programs A and B actually did on it."""

    input: str
    a: ObservedRun
    b: ObservedRun


def truncate(text: str, limit: int = FIELD_CHARS) -> str:
    """``text`` cut to about ``limit`` characters, marked when cut.

    >>> truncate("abcdef", 3)
    'abc... (truncated)'
    """
    if len(text) <= limit:
        return text
    return text[:limit] + _TRUNCATION_MARK


def estimate_tokens(messages: Sequence[Message] | str) -> int:
    """A conservative token count of a prompt (`CHARS_PER_TOKEN` characters a token).

    >>> estimate_tokens("x" * 30)
    10
    """
    if isinstance(messages, str):
        return -(-len(messages) // CHARS_PER_TOKEN)
    return sum(estimate_tokens(m.content) + 4 for m in messages)


def _block(text: str, language: str = "", *, limit: int = FIELD_CHARS) -> str:
    body = truncate(text, limit).rstrip("\n")
    # A body holding a fence would end the block early; a longer fence keeps it whole.
    fence = "````" if "```" in body else "```"
    return f"{fence}{language}\n{body}\n{fence}"


def _describe_run(run: ObservedRun, *, label: str, limit: int) -> str:
    if run.verdict.ran_cleanly:
        output = run.output if run.output.strip() else "(empty)"
        return f"{label}:\n{_block(output, limit=limit)}"
    reason = _VERDICT_WORDS[run.verdict]
    detail = f": {truncate(run.error, limit)}" if run.error else ""
    text = f"{label}: {reason}{detail}"
    if run.output.strip():
        text += f"\nIt printed before stopping:\n{_block(run.output, limit=limit)}"
    return text


def _input_label(kind: ProblemKind) -> str:
    if kind is ProblemKind.FUNCTIONAL:
        return "Arguments (one JSON value per line)"
    return "Input"


def _result_word(kind: ProblemKind) -> str:
    return "return value" if kind is ProblemKind.FUNCTIONAL else "output"


def format_feedback(
    rounds: Sequence[DebugRound],
    *,
    kind: ProblemKind = ProblemKind.STDIN,
    field_chars: int = FIELD_CHARS,
    budget_chars: int | None = None,
) -> str:
    """The debug history: every earlier attempt's code and its result on each public test.

    Passed tests are listed by number only; failed ones show the input, the expected
    output and the actual output or error, each cut to ``field_chars`` (code is cut
    only at `CODE_CHARS`). Over ``budget_chars``, the oldest attempts are left out
    first (the text says so), then the fields of the newest are cut shorter.
    """
    parts = [_format_attempt(n, a, kind, field_chars) for n, a in enumerate(rounds, start=1)]
    if budget_chars is None or len("\n\n".join(parts)) <= budget_chars:
        return "\n\n".join(parts)
    kept = list(parts)
    while len(kept) > 1 and len("\n\n".join(kept)) > budget_chars:
        kept.pop(0)
    note = f"({len(parts) - len(kept)} earlier attempt(s) left out for space.)\n\n"
    newest = len(rounds)
    limit = field_chars
    while len(note) + len(kept[-1]) > budget_chars and limit > 100:
        limit //= 2
        kept[-1] = _format_attempt(newest, rounds[-1], kind, limit)
    return note + "\n\n".join(kept)


def _format_attempt(number: int, attempt: DebugRound, kind: ProblemKind, field_chars: int) -> str:
    code = (
        _block(attempt.code, "python", limit=CODE_CHARS)
        if attempt.code.strip()
        else "(no code found)"
    )
    lines = [f"## Attempt {number}", code]
    if not attempt.tests:
        lines.append("It was not run.")
    for index, test in enumerate(attempt.tests, start=1):
        verdict = _VERDICT_WORDS[test.run.verdict]
        if test.run.verdict is Verdict.PASSED:
            lines.append(f"Test {index}: passed.")
            continue
        lines.append(f"Test {index}: {verdict}.")
        lines.append(f"{_input_label(kind)}:\n{_block(test.input, limit=field_chars)}")
        if test.expected is not None:
            expected = _block(test.expected, limit=field_chars)
            lines.append(f"Expected {_result_word(kind)}:\n{expected}")
        actual = f"Actual {_result_word(kind)}"
        lines.append(_describe_run(test.run, label=actual, limit=field_chars))
    return "\n".join(lines)


def format_observations(
    observations: Sequence[Observation],
    *,
    kind: ProblemKind = ProblemKind.STDIN,
    field_chars: int = FIELD_CHARS,
    budget_chars: int | None = None,
) -> str:
    """What programs A and B actually did on each input (each part cut to ``field_chars``).

    Over ``budget_chars``, every field is cut shorter (down to 100 characters), then
    the last observations are dropped; the first one always stays.
    """
    limit = field_chars
    while True:
        parts = [_format_observation(n, o, kind, limit) for n, o in enumerate(observations, 1)]
        text = "\n\n".join(parts)
        if budget_chars is None or len(text) <= budget_chars or limit <= 100:
            break
        limit = max(100, limit // 2)
    while budget_chars is not None and len(parts) > 1 and len("\n\n".join(parts)) > budget_chars:
        parts.pop()
    return "\n\n".join(parts)


def _format_observation(number: int, seen: Observation, kind: ProblemKind, limit: int) -> str:
    return "\n".join(
        (
            f"## Input {number}",
            f"{_input_label(kind)}:\n{_block(seen.input, limit=limit)}",
            _describe_run(seen.a, label=f"Program A {_result_word(kind)}", limit=limit),
            _describe_run(seen.b, label=f"Program B {_result_word(kind)}", limit=limit),
        )
    )


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    """A parsed template file: its sections in order and the placeholders they use."""

    name: str
    sections: tuple[tuple[Role, Template], ...]

    @property
    def fields(self) -> frozenset[str]:
        names: set[str] = set()
        for _, template in self.sections:
            names.update(template.get_identifiers())
        return frozenset(names)

    @classmethod
    def parse(cls, name: str, text: str) -> PromptTemplate:
        """Split ``text`` on ``[system]`` / ``[user]`` lines; ConfigError when malformed."""
        markers = list(_SECTION.finditer(text))
        if not markers or text[: markers[0].start()].strip():
            raise ConfigError(f"prompt template {name} must start with a [system] or [user] line")
        sections: list[tuple[Role, Template]] = []
        for marker, following in zip(markers, [*markers[1:], None], strict=True):
            end = following.start() if following is not None else len(text)
            role: Role = "system" if marker[1] == "system" else "user"
            template = Template(text[marker.end() : end].strip("\n"))
            if not template.is_valid():
                raise ConfigError(f"prompt template {name} has a malformed $ placeholder")
            sections.append((role, template))
        if sections[-1][0] != "user":
            raise ConfigError(f"prompt template {name} must end with a [user] section")
        return cls(name=name, sections=tuple(sections))


class PromptSet:
    """The templates of every stage, from the package or from a directory of overrides.

    A directory may hold any subset of the files; the others come from the package.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory

    def template(self, stage: str, kind: ProblemKind) -> PromptTemplate:
        """The template of ``stage`` for problems of ``kind``; ConfigError for a bad stage."""
        if stage not in STAGES:
            raise ConfigError(
                f"unknown prompt stage {stage!r}", hint=f"choose one of {', '.join(STAGES)}"
            )
        names = (f"{stage}.{kind.value}.txt", f"{stage}.txt")
        # An override directory wins as a whole: its shared file beats a packaged
        # kind-specific one.
        if self._directory is not None:
            for name in names:
                path = self._directory / name
                if path.is_file():
                    try:
                        text = path.read_text(encoding="utf-8")
                    except (OSError, UnicodeDecodeError) as error:
                        raise ConfigError(f"cannot read prompt template {path}: {error}") from None
                    return PromptTemplate.parse(name, text)
        for name in names:
            packaged = _packaged_template(name)
            if packaged is not None:
                return PromptTemplate.parse(name, packaged)
        raise ConfigError(f"no prompt template for stage {stage!r} and {kind.value} problems")

    def fields(self, stage: str) -> frozenset[str]:
        """The caller-supplied fields the stage's templates use (for either kind)."""
        names: set[str] = set()
        for kind in ProblemKind:
            names.update(self.template(stage, kind).fields)
        return frozenset(names - PROBLEM_FIELDS)

    def render(self, stage: str, problem: Problem, **fields: str | int) -> tuple[Message, ...]:
        """The messages of ``stage`` for ``problem``, with ``fields`` filled in.

        Raises ConfigError when a placeholder has no value, or when a field is given that
        no template of the stage uses (a misspelt name would otherwise vanish silently).
        """
        template = self.template(stage, problem.kind)
        unknown = set(fields) - self.fields(stage)
        if unknown:
            raise ConfigError(
                f"prompt stage {stage!r} has no field(s) {', '.join(sorted(unknown))}",
                hint=f"its fields are: {', '.join(sorted(self.fields(stage))) or 'none'}",
            )
        values = {**problem_fields(problem), **{k: str(v) for k, v in fields.items()}}
        missing = template.fields - set(values)
        if missing:
            raise ConfigError(
                f"prompt {template.name} needs field(s) {', '.join(sorted(missing))}",
                hint=f"pass them to render({stage!r}, problem, ...)",
            )
        values = {name: truncate(value, MAX_FIELD_CHARS) for name, value in values.items()}
        return tuple(
            Message(role, body.substitute(values).strip()) for role, body in template.sections
        )


@cache
def _packaged_template(name: str) -> str | None:
    resource = resources.files("codestar.pipeline").joinpath("prompts", name)
    return resource.read_text(encoding="utf-8") if resource.is_file() else None


_DEFAULT = PromptSet()


@cache
def variant(name: str) -> PromptSet:
    """The packaged prompt variant ``name`` (``prompts/<name>/``, falling back file by
    file to the default templates); ``default`` is the default set itself."""
    if name == "default":
        return _DEFAULT
    folder = resources.files("codestar.pipeline").joinpath("prompts", name)
    if not folder.is_dir():
        raise ConfigError(f"no packaged prompt variant {name!r}")
    return PromptSet(Path(str(folder)))


def render(stage: str, problem: Problem, **fields: str | int) -> tuple[Message, ...]:
    """The messages of ``stage`` for ``problem`` from the packaged templates.

    >>> from codestar.problems.model import Problem, ProblemKind
    >>> p = Problem(id="x", statement="Print 1.", kind=ProblemKind.STDIN)
    >>> [m.role for m in render("generate", p)]
    ['system', 'user']
    """
    return _DEFAULT.render(stage, problem, **fields)


def problem_fields(problem: Problem) -> dict[str, str]:
    """The template fields that come from the problem itself."""
    functional = problem.kind is ProblemKind.FUNCTIONAL
    entry = problem.entry_point or ""
    call = _call_expression(problem)
    if functional and problem.starter_code.strip():
        code = _block(problem.starter_code.rstrip(), "python", limit=CODE_CHARS)
        starter = f"Start from this code:\n{code}"
    elif functional:
        starter = f"Define a function named `{entry}`."
    else:
        starter = ""
    if functional:
        input_format = (
            f"the arguments of one call of `{call}`: one JSON value per argument, "
            "one per line, in the order of the parameters"
        )
    else:
        input_format = "the exact text the program reads from standard input"
    if functional:
        interface = f"Each test calls `{call}` and compares the value it returns."
    else:
        interface = "Each test runs the program on an input given on standard input."
    example = problem.public_tests[0].input if problem.public_tests else ""
    example_input = (
        f"For example, this is a valid input:\n{_block(example)}" if example.strip() else ""
    )
    return {
        "example_test": _example_test(problem),
        "statement": problem.statement.strip(),
        "title": problem.title,
        "entry_point": entry,
        "call": call,
        "starter": starter,
        "example_input": example_input,
        "input_format": input_format,
        "interface": interface,
    }


def _call_expression(problem: Problem) -> str:
    """How the grader calls the solution, e.g. ``Solution().twoSum(...)``."""
    if problem.kind is not ProblemKind.FUNCTIONAL or not problem.entry_point:
        return ""
    if re.search(r"^[ \t]*class[ \t]+Solution\b", problem.starter_code, re.MULTILINE):
        return f"Solution().{problem.entry_point}(...)"
    return f"{problem.entry_point}(...)"


def _example_test(problem: Problem) -> str:
    """An assert line in the form the ``tests`` stage asks for, from the first public test."""
    if problem.kind is not ProblemKind.FUNCTIONAL:
        return ""
    call = _call_expression(problem).removesuffix("(...)")
    test = next((t for t in problem.public_tests if t.expected is not None), None)
    if test is None or test.expected is None:
        line = f"assert {call}(<arguments>) == <expected value>"
    else:
        line = f"assert {call}({example_arguments(test)}) == {_python_literal(test.expected)}"
    return _block(line, "python")


def _python_literal(json_text: str) -> str:
    try:
        return repr(json.loads(json_text))
    except ValueError:
        return json_text.strip()


def example_arguments(test: TestCase) -> str:
    """A functional test's arguments as a Python argument list, for examples.

    >>> example_arguments(TestCase(input='[1, 2]\\ntrue'))
    '[1, 2], True'
    """
    values: list[str] = []
    for line in test.input.splitlines():
        if not line.strip():
            continue
        values.append(_python_literal(line))
    return ", ".join(values)
