"""Run LiveCodeBench's own grading harness, out of tree, on a benchmark workload.

LiveCodeBench is never vendored: point ``--lcb-path`` (or ``CODESTAR_LCB_PATH``) at a
work tree of https://github.com/LiveCodeBench/LiveCodeBench (the folder that holds
``lcb_runner/``). Its harness needs ``numpy`` and ``tqdm``.

The harness runs in a child interpreter (``python -m benchmarks.execution.lcb_anchor``)
so that its process pool forks from a clean, single-threaded process and its
``reliability_guard`` never touches the benchmark. The child calls
``lcb_runner.evaluation.compute_code_generation_metrics.evaluate_generations`` exactly as
``codegen_metrics`` does (one sample per program, ``num_process_evaluate`` workers,
a whole-second ``timeout``) and times only that call, so interpreter start and imports
are not charged to LiveCodeBench.

Results come back per program as LiveCodeBench's list for the tests it ran: ``True``, or
``False`` or ``-2`` wrong answer, ``-3`` time limit, ``-4`` runtime error (also compile
errors), ``-1`` the whole program hit its global time-out. It stops at the first failing
test, so the list is a prefix of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.execution.workload import Workload
from codestar.execution.types import Verdict

ENVIRONMENT_VARIABLE = "CODESTAR_LCB_PATH"
REPO_ROOT = Path(__file__).resolve().parents[2]
HARNESS_MODULE = "lcb_runner/evaluation/compute_code_generation_metrics.py"

_CODES = {
    -1: Verdict.TIMEOUT,  # the per-program global time-out
    -2: Verdict.WRONG_ANSWER,
    -3: Verdict.TIMEOUT,
    -4: Verdict.RUNTIME_ERROR,
    -5: Verdict.RUNTIME_ERROR,  # the harness itself raised
}


class LiveCodeBenchMissing(Exception):
    """No LiveCodeBench work tree where we were told to look."""


@dataclass(frozen=True, slots=True)
class LcbRun:
    """LiveCodeBench's verdicts and the wall time of its grading call.

    ``verdicts`` has one tuple per program, one entry per test it ran (a prefix);
    ``messages`` holds its ``error_message`` per program (empty when all passed).
    """

    wall_s: float
    verdicts: tuple[tuple[Verdict, ...], ...]
    messages: tuple[str, ...]


def find_lcb_path(given: str | None) -> Path:
    """The LiveCodeBench work tree from ``--lcb-path`` or the environment.

    Raises LiveCodeBenchMissing with what to do when there is none.
    """
    raw = given or os.environ.get(ENVIRONMENT_VARIABLE)
    if not raw:
        raise LiveCodeBenchMissing(
            f"no LiveCodeBench path: pass --lcb-path or set {ENVIRONMENT_VARIABLE}"
        )
    path = Path(raw).expanduser().resolve()
    if not (path / HARNESS_MODULE).is_file():
        raise LiveCodeBenchMissing(f"{path} has no {HARNESS_MODULE}")
    return path


def verdict_of(code: Any) -> Verdict:
    """LiveCodeBench's per-test result as a codestar verdict (``True`` is a pass)."""
    if code is True:
        return Verdict.PASSED
    if code is False:
        # Functional wrong answers are recorded as ``False`` rather than ``-2``.
        return Verdict.WRONG_ANSWER
    return _CODES.get(int(code), Verdict.RUNTIME_ERROR)


def _samples(workload: Workload) -> list[dict[str, Any]]:
    samples = []
    for bench in workload.programs:
        samples.append(
            {
                "code": bench.program.source,
                "input_output": json.dumps(
                    {
                        "inputs": [t.input for t in bench.tests],
                        "outputs": [t.expected for t in bench.tests],
                        "fn_name": bench.program.entry_point,
                    }
                ),
            }
        )
    return samples


def run_lcb(
    workload: Workload, lcb_path: Path, *, workers: int, python: str = sys.executable
) -> LcbRun:
    """Grade every program of ``workload`` with LiveCodeBench's harness in a child process.

    Raises RuntimeError when the child fails (its stderr tail is in the message).
    """
    timeout = int(workload.limits.timeout_s)
    with tempfile.TemporaryDirectory(prefix="codestar-lcb-") as scratch:
        request, answer = Path(scratch) / "request.json", Path(scratch) / "answer.json"
        request.write_text(json.dumps(_samples(workload)), encoding="utf-8")
        command = [
            python, "-m", "benchmarks.execution.lcb_anchor", "--lcb-path", str(lcb_path),
            "--request", str(request), "--answer", str(answer),
            "--workers", str(workers), "--timeout", str(timeout),
        ]  # fmt: skip
        environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        finished = subprocess.run(
            command,
            cwd=scratch,
            env=environment,
            stdin=subprocess.DEVNULL,  # a program reading the real fd 0 must not block
            capture_output=True,
            text=True,
            check=False,
        )
        if finished.returncode != 0 or not answer.exists():
            raise RuntimeError(
                f"LiveCodeBench's harness failed ({finished.returncode}): {finished.stderr[-2000:]}"
            )
        data = json.loads(answer.read_text(encoding="utf-8"))
    return LcbRun(
        wall_s=float(data["wall_s"]),
        verdicts=tuple(tuple(verdict_of(code) for code in row) for row in data["results"]),
        messages=tuple(data["messages"]),
    )


def _grade_in_child(arguments: argparse.Namespace) -> None:
    """The child side: import LiveCodeBench, grade, write the answer file."""
    sys.path.insert(0, arguments.lcb_path)
    from lcb_runner.evaluation.compute_code_generation_metrics import (  # type: ignore[import-not-found]
        evaluate_generations,
    )

    samples = json.loads(Path(arguments.request).read_text(encoding="utf-8"))
    generations = [[sample.pop("code")] for sample in samples]
    started = time.perf_counter()
    results, metadata = evaluate_generations(
        samples,
        generations,
        debug=False,
        num_process_evaluate=arguments.workers,
        timeout=arguments.timeout,
    )
    wall = time.perf_counter() - started
    rows = [
        [c if isinstance(c, bool) else int(c) for c in results[i][0]] for i in range(len(samples))
    ]
    messages = [
        " ".join(str(metadata[i][0].get(key, "")) for key in ("error_message", "error")).strip()
        for i in range(len(samples))
    ]
    answer = {"wall_s": wall, "results": rows, "messages": messages}
    Path(arguments.answer).write_text(json.dumps(answer), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lcb-path", required=True)
    parser.add_argument("--request", required=True)
    parser.add_argument("--answer", required=True)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=int, default=6)
    _grade_in_child(parser.parse_args(argv))


if __name__ == "__main__":
    main()
