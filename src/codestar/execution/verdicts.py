"""Turning what a child reported, or how it died, into a test's outcome.

The worker supervises children and reads their outputs; this module only decides: it
grades an output against the expected one (which the child never sees), caps what is
kept of it, hashes all of it for clustering, and maps limits, signals and exit codes to
verdicts. Outcomes are plain dicts here (they travel to the engine as JSON).
"""

from __future__ import annotations

import hashlib
import math
import os
import signal
from dataclasses import dataclass
from typing import Any

from codestar.execution.grading import outputs_match
from codestar.execution.types import GradingRule, Verdict
from codestar.problems.model import ProblemKind

#: Blanks that do not count around line breaks (``\n`` itself separates lines).
_BLANKS = b" \t\r\f\v"
_BLANK_AROUND_BREAK = tuple(
    pair for blank in _BLANKS for pair in (bytes([blank]) + b"\n", b"\n" + bytes([blank]))
)


def normalize_lines(data: bytes) -> bytes:
    """``data`` stripped, with the blanks around each line break removed; linear time.

    >>> normalize_lines(b"  1 2 \\n\\t3\\n\\n")
    b'1 2\\n3'
    """
    data = data.strip()
    # The usual output has no blank next to a line break: ten substring scans (C speed)
    # prove it. A regular expression here went quadratic on long runs of spaces.
    if not any(pair in data for pair in _BLANK_AROUND_BREAK):
        return data
    return b"\n".join(line.strip(_BLANKS) for line in data.split(b"\n"))


def digest(kind: str, data: bytes) -> str:
    """A hash of the output that ignores whitespace around lines (stdin programs).

    >>> digest("stdin", b"1 2 \\n3\\n") == digest("stdin", b"1 2\\n3")
    True
    """
    if kind == "stdin":
        data = normalize_lines(data)
    return hashlib.blake2b(data, digest_size=16).hexdigest()


#: The status words the harness sends; anything else is a forged message.
_STATUSES = frozenset({"ok", "error", "memory", "output", "load"})
#: Error lines are cut to this many characters.
ERROR_CHARS = 2000


def clean_text(text: str, limit: int = ERROR_CHARS) -> str:
    """``text`` cut to ``limit`` characters, lone surrogates replaced: always valid UTF-8.

    >>> clean_text("bad \\ud800 line")
    'bad ? line'
    """
    return text[:limit].encode("utf-8", "replace").decode("utf-8")


def seconds(value: Any, most: float) -> float | None:
    """A duration the child reported, if it is one: a finite number in [0, ``most``].

    >>> seconds(0.5, 2.0), seconds(float("nan"), 2.0), seconds(10**400, 2.0), seconds(True, 1)
    (0.5, None, 2.0, None)
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return float(min(value, most)) if value >= 0 else None


def outcome(verdict: Verdict, elapsed: float = 0.0, error: str | None = None) -> dict[str, Any]:
    return {"v": verdict.value, "t": round(elapsed, 6), "e": error or None}


def _output_limit(elapsed: float) -> dict[str, Any]:
    return outcome(Verdict.OUTPUT_LIMIT, elapsed, "output limit exceeded")


@dataclass(frozen=True, slots=True)
class Verdicts:
    """The verdict rules of one job: its kind, expected outputs, rule and caps."""

    kind: str
    expected: list[str | None]
    rule: GradingRule
    captured_chars: int
    timeout_s: float

    def graded(self, index: int, data: bytes, elapsed: float) -> dict[str, Any]:
        """A clean run: passed or wrong answer (completed when nothing is expected)."""
        expected = self.expected[index]
        if expected is None:
            verdict = Verdict.COMPLETED
        else:
            text = data.decode("utf-8", "replace")
            matched = outputs_match(ProblemKind(self.kind), text, expected, self.rule)
            verdict = Verdict.PASSED if matched else Verdict.WRONG_ANSWER
        return self.with_output(outcome(verdict, elapsed), data)

    def with_output(self, result: dict[str, Any], data: bytes) -> dict[str, Any]:
        """``result`` with the captured part of the output and the digest of all of it."""
        cap = self.captured_chars
        text = data[: 4 * cap].decode("utf-8", "replace")
        result["out"] = text[:cap]
        result["tr"] = len(text) > cap or len(data) > 4 * cap
        result["d"] = digest(self.kind, data)
        return result

    def reported(
        self, index: int, message: dict[str, Any], data: bytes, over: bool, measured: float
    ) -> tuple[dict[str, Any], str]:
        """The outcome of a test the child reported on, and the child's status word.

        The message may be forged by the program: anything but a well-formed status of
        this test is a runtime error; the child's own timing counts only when it is a
        number no larger than the ``measured`` wall time.
        """
        status, error = message.get("s"), message.get("e")
        elapsed = seconds(message.get("t"), measured)
        if (
            message.get("i") != index
            or status not in _STATUSES
            or not isinstance(error, str)
            or elapsed is None
        ):
            garbled = outcome(Verdict.RUNTIME_ERROR, measured, "garbled status from the program")
            return garbled, "error"
        error = clean_text(error)
        if over or status == "output":
            return _output_limit(elapsed), status
        if status == "ok":
            return self.graded(index, data, elapsed), status
        if status == "memory":
            return outcome(Verdict.MEMORY_LIMIT, elapsed, error), status
        return self.with_output(outcome(Verdict.RUNTIME_ERROR, elapsed, error), data), status

    def timed_out(self, over: bool) -> dict[str, Any]:
        """A test stopped at the wall-clock limit (or found over the output limit then)."""
        if over:
            return _output_limit(self.timeout_s)
        return outcome(Verdict.TIMEOUT, self.timeout_s, f"time limit of {self.timeout_s:g} s")

    def died(
        self,
        index: int,
        death: tuple[int, float] | None,
        data: bytes,
        over: bool,
        elapsed: float,
        cpu_limit_s: int,
        oom_killed: bool = False,
    ) -> dict[str, Any]:
        """A test during which the child died without reporting.

        ``death`` is the wait status and CPU seconds of the child (None if it vanished);
        ``cpu_limit_s`` is the hard CPU limit the child ran under; ``oom_killed`` says the
        memory cgroup's count of out-of-memory kills went up.
        """
        if over:
            return _output_limit(elapsed)
        if death is None:
            return outcome(Verdict.RUNTIME_ERROR, elapsed, "the program vanished")
        wait_status, cpu = death
        if os.WIFSIGNALED(wait_status):
            number = os.WTERMSIG(wait_status)
            if number == signal.SIGXFSZ:
                return _output_limit(elapsed)
            if number == signal.SIGKILL and oom_killed:
                return outcome(Verdict.MEMORY_LIMIT, elapsed, "out of memory (memory cgroup)")
            if number == signal.SIGXCPU or (number == signal.SIGKILL and cpu >= cpu_limit_s - 1):
                return outcome(Verdict.TIMEOUT, elapsed, "CPU time limit exceeded")
            if number == signal.SIGSEGV:
                return outcome(
                    Verdict.RUNTIME_ERROR, elapsed, "Segmentation fault (stack overflow?)"
                )
            if number == signal.SIGKILL:
                return outcome(Verdict.MEMORY_LIMIT, elapsed, "killed (out of memory?)")
            name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
            return outcome(Verdict.RUNTIME_ERROR, elapsed, f"killed by {name}")
        code = os.waitstatus_to_exitcode(wait_status)
        if code == 0 and self.kind == "stdin":  # os._exit(0) after printing: a clean end
            return self.graded(index, data, elapsed)
        return self.with_output(
            outcome(Verdict.RUNTIME_ERROR, elapsed, f"exited with status {code}"), data
        )
