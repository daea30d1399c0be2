"""Whole grading processes side by side: `codestar grade` against LiveCodeBench's harness.

    .venv/bin/python -m benchmarks.execution.whole_process --lcb-path PATH \\
        [--repeat 5] [--workers N] [--json OUT]

`benchmarks.execution.run` times the engines from their creation to the last result.
A user, though, runs a command: this benchmark times what a user waits for, from the
`exec` of a fresh interpreter to its exit, for both sides, on workload (a) of the
execution benchmark (80 gpt-4o-mini programs x 30 cycled public tests):

- **codestar**: ``codestar grade --problems problems.jsonl --generations gens.json
  --json`` (interpreter start, imports, loading the LiveCodeBench-format file, the
  engine with every isolation layer, grading, the JSON on stdout);
- **livecodebench**: a child interpreter that imports LiveCodeBench's harness, reads
  the same two files, builds each problem's sample as ``CodeGenerationProblem.
  get_evaluation_sample`` does and calls ``codegen_metrics`` (what its
  ``custom_evaluator`` calls), then writes the verdicts.

Both stop at a program's first failing test and get the same number of workers and the
same whole-second time limit. The two commands alternate ``--repeat`` times, so load on
the machine falls on both; the figure to read is the ratio of the medians. Each
program's pass/fail must agree between the two, or the run says where it does not.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.execution.lcb_anchor import REPO_ROOT, LiveCodeBenchMissing, find_lcb_path
from benchmarks.execution.run import DEFAULT_DATA_DIR
from benchmarks.execution.workload import Workload, build_overhead_workload
from codestar.execution.types import ProblemKind


def write_inputs(workload: Workload, folder: Path) -> tuple[Path, Path, list[str]]:
    """The workload as a LiveCodeBench-format problems file and a generations file."""
    problems, generations, ids = [], [], []
    for index, bench in enumerate(workload.programs):
        question_id = f"{index:03d}-{bench.name.replace('/', '-')}"
        functional = bench.program.kind is ProblemKind.FUNCTIONAL
        testtype = "functional" if functional else "stdin"
        tests = [
            {"input": t.input, "output": t.expected, "testtype": testtype} for t in bench.tests
        ]
        problems.append(
            {
                "question_id": question_id,
                "question_title": bench.name,
                "question_content": f"Workload (a) program {bench.name}.",
                "platform": bench.name.split("/", 1)[0],
                "contest_id": "",
                "contest_date": "2023-08-01T00:00:00",
                "starter_code": "",
                "difficulty": "easy",
                "public_test_cases": json.dumps(tests),
                "private_test_cases": json.dumps([]),
                "metadata": json.dumps(
                    {"func_name": bench.program.entry_point} if functional else {}
                ),
            }
        )
        generations.append({"question_id": question_id, "code_list": [bench.program.source]})
        ids.append(question_id)
    problems_file, generations_file = folder / "problems.jsonl", folder / "generations.json"
    problems_file.write_text("".join(json.dumps(p) + "\n" for p in problems), encoding="utf-8")
    generations_file.write_text(json.dumps(generations), encoding="utf-8")
    return problems_file, generations_file, ids


def _environment(**extra: str) -> dict[str, str]:
    """The children's environment: this one, with bytecode caching left on.

    Some machines set ``PYTHONDONTWRITEBYTECODE``; a user's installation has its
    ``.pyc`` files, so both sides get them (the first, untimed warm-up run writes them).
    """
    environment = {**os.environ, **extra}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return environment


def _timed(command: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    """Run ``command`` to its exit: wall seconds and stdout (raises on failure)."""
    started = time.perf_counter()
    finished = subprocess.run(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    if finished.returncode != 0:
        raise RuntimeError(
            f"{command[:3]} failed ({finished.returncode}): {finished.stderr[-2000:]}"
        )
    return wall, finished.stdout


def run_codestar(
    problems: Path, generations: Path, *, workers: int, timeout: int, scratch: Path
) -> tuple[float, dict[str, bool]]:
    """One `codestar grade` process: its wall time and each problem's pass/fail."""
    codestar = str(Path(sys.executable).with_name("codestar"))
    command = [
        codestar, "grade", "--problems", str(problems), "--generations", str(generations),
        "--workers", str(workers), "--timeout", str(timeout), "--json",
    ]  # fmt: skip
    wall, stdout = _timed(command, cwd=scratch, env=_environment())
    results = json.loads(stdout)["results"]
    return wall, {qid: bool(row[0]) for qid, row in results.items()}


def run_livecodebench(
    problems: Path, generations: Path, lcb_path: Path, *, workers: int, timeout: int, scratch: Path
) -> tuple[float, dict[str, bool]]:
    """One LiveCodeBench grading process: its wall time and each problem's pass/fail."""
    answer = scratch / "lcb-answer.json"
    command = [
        sys.executable, "-m", "benchmarks.execution.whole_process", "--lcb-child",
        "--lcb-path", str(lcb_path), "--problems", str(problems),
        "--generations", str(generations), "--answer", str(answer),
        "--workers", str(workers), "--timeout", str(timeout),
    ]  # fmt: skip
    wall, _ = _timed(command, cwd=scratch, env=_environment(PYTHONPATH=str(REPO_ROOT)))
    passed = json.loads(answer.read_text(encoding="utf-8"))
    return wall, {qid: bool(value) for qid, value in passed.items()}


def _lcb_child(arguments: argparse.Namespace) -> None:
    """The LiveCodeBench side, as its evaluator does it: samples, `codegen_metrics`."""
    sys.path.insert(0, arguments.lcb_path)
    from lcb_runner.evaluation.compute_code_generation_metrics import (  # type: ignore[import-not-found]
        codegen_metrics,
    )

    records = [
        json.loads(line) for line in Path(arguments.problems).read_text("utf-8").splitlines()
    ]
    generations = {
        g["question_id"]: g["code_list"]
        for g in json.loads(Path(arguments.generations).read_text("utf-8"))
    }
    samples, code_lists = [], []
    for record in records:
        tests = json.loads(record["public_test_cases"]) + json.loads(record["private_test_cases"])
        metadata = json.loads(record["metadata"])
        samples.append(
            {
                "input_output": json.dumps(
                    {
                        "inputs": [t["input"] for t in tests],
                        "outputs": [t["output"] for t in tests],
                        "fn_name": metadata.get("func_name"),
                    }
                )
            }
        )
        code_lists.append(generations[record["question_id"]])
    _, results, _ = codegen_metrics(
        samples,
        code_lists,
        k_list=[1],
        num_process_evaluate=arguments.workers,
        timeout=arguments.timeout,
    )
    passed = {
        record["question_id"]: all(code is True for code in results[i][0])
        for i, record in enumerate(records)
    }
    Path(arguments.answer).write_text(json.dumps(passed), encoding="utf-8")


def measure(workload: Workload, lcb_path: Path, *, workers: int, repeat: int) -> dict[str, Any]:
    """Alternate the two processes ``repeat`` times; walls, medians, ratio, agreement."""
    timeout = int(workload.limits.timeout_s)
    walls: dict[str, list[float]] = {"codestar": [], "livecodebench": []}
    disagreements: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="codestar-whole-") as folder:
        scratch = Path(folder)
        problems, generations, ids = write_inputs(workload, scratch)
        # One untimed run of each first: bytecode caches and the page cache.
        run_codestar(problems, generations, workers=workers, timeout=timeout, scratch=scratch)
        run_livecodebench(
            problems, generations, lcb_path, workers=workers, timeout=timeout, scratch=scratch
        )
        for _ in range(repeat):
            wall, ours = run_codestar(
                problems, generations, workers=workers, timeout=timeout, scratch=scratch
            )
            walls["codestar"].append(wall)
            wall, theirs = run_livecodebench(
                problems, generations, lcb_path, workers=workers, timeout=timeout, scratch=scratch
            )
            walls["livecodebench"].append(wall)
            disagreements |= {qid for qid in ids if ours.get(qid) != theirs.get(qid)}
    medians = {name: statistics.median(values) for name, values in walls.items()}
    return {
        "workload": workload.description,
        "programs": len(workload.programs),
        "tests": workload.test_count,
        "workers": workers,
        "repeat": repeat,
        "wall_s": walls,
        "median_s": medians,
        "ratio": medians["livecodebench"] / medians["codestar"],
        "programs_passed": sum(ours.values()),
        "disagreements": sorted(disagreements),
        "load_average": os.getloadavg(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lcb-path", help="LiveCodeBench work tree (or CODESTAR_LCB_PATH)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--json", type=Path, help="write the figures here")
    # The LiveCodeBench child's own arguments (internal).
    parser.add_argument("--lcb-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--problems", help=argparse.SUPPRESS)
    parser.add_argument("--generations", help=argparse.SUPPRESS)
    parser.add_argument("--answer", help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=int, default=6, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.lcb_child:
        _lcb_child(arguments)
        return 0
    try:
        lcb_path = find_lcb_path(arguments.lcb_path)
    except LiveCodeBenchMissing as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    workload = build_overhead_workload(arguments.data_dir)
    result = measure(workload, lcb_path, workers=arguments.workers, repeat=arguments.repeat)
    medians = result["median_s"]
    print(f"{result['workload']}, {arguments.workers} workers, {arguments.repeat} alternating runs")
    print("| process | wall s (each run) | median s |")
    print("|---|---|---:|")
    for name, values in result["wall_s"].items():
        runs = " / ".join(f"{v:.2f}" for v in values)
        print(f"| {name} | {runs} | {medians[name]:.2f} |")
    print(f"LiveCodeBench / codestar (medians): {result['ratio']:.2f}x")
    print(f"programs passed: {result['programs_passed']}; disagreements: {result['disagreements']}")
    if arguments.json is not None:
        arguments.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
