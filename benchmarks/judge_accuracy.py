"""How often the recorded judge of a finished S* run chose the correct program.

    .venv/bin/python benchmarks/judge_accuracy.py --run-dir RUN [--benchmark humaneval]

No model is asked: every comparison of the run's sstar trace is read as recorded, and
its two representatives are graded on the hidden tests in the sandbox. Only the
comparisons with exactly one correct side can change a choice; over those it prints
how many the judge decided rightly, wrongly, or left undecided (the two orders
disagreed), and the problems of each. `benchmarks/judge_replay.py` asks the same
prompts of another model instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codestar.evaluation.prepare import grading_rule, prepare_problems
from codestar.execution.engine import Engine
from codestar.execution.types import Program
from codestar.problems.benchmarks import BenchmarkQuery, load_benchmark


async def measure(run_dir: Path, benchmark: str) -> dict[str, list[str]]:
    lines = (run_dir / "traces" / "sstar.jsonl").read_text().splitlines()
    traces = [json.loads(line) for line in lines if line.strip()]
    loaded = {p.id: p for p in load_benchmark(benchmark, BenchmarkQuery()).problems}
    found: dict[str, list[str]] = {"right": [], "wrong": [], "undecided": []}
    with Engine() as engine:
        wanted = [loaded[t["problem_id"]] for t in traces if t["comparisons"]]
        problems = {p.id: p for p in (await prepare_problems(wanted, engine)).problems}
        for trace in traces:
            if not trace["comparisons"]:
                continue
            problem = problems[trace["problem_id"]]
            code = {c["index"]: c["code"] for c in trace["candidates"]}
            correct: dict[int, bool] = {}
            for cluster in trace["clusters"]:
                program = Program.for_problem(code[cluster["members"][0]], problem)
                result = await engine.arun(
                    program, problem.hidden_tests, stop_on_failure=True, rule=grading_rule(problem)
                )
                correct[cluster["index"]] = result.passed
            for comparison in trace["comparisons"]:
                first, second = correct[comparison["first"]], correct[comparison["second"]]
                if first == second:
                    continue
                winner = comparison["winner"]
                verdict = "undecided" if winner is None else "right" if correct[winner] else "wrong"
                found[verdict].append(problem.id)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--benchmark", default="humaneval")
    args = parser.parse_args()
    found = asyncio.run(measure(args.run_dir, args.benchmark))
    print("comparisons between a correct and a wrong cluster:")
    for verdict, problems in found.items():
        print(f"  {verdict:>9}: {len(problems):3}  {', '.join(sorted(set(problems)))}")


if __name__ == "__main__":
    main()
