"""How many mutated inputs S* should cluster on: measured on a finished run, no model.

    .venv/bin/python benchmarks/mutant_clustering.py --run-dir RUN [--benchmark humaneval]
        [--mutations 0,8,16,32] [--json OUT]

For every problem of the run's sstar trace, the kept candidates (those that passed the
public tests) are graded on the hidden tests in the sandbox, then clustered again, as
the pipeline clusters them (`codestar.pipeline.stages.clustering.cluster`, the same
rule for dropping inputs most candidates crash on, and S*'s ``exclude_broken``), on the
trace's model-written inputs plus K mutants of the public inputs, for each K asked.

Over the problems whose kept pool mixes correct and wrong programs (the only ones
where selection matters), it prints for each K:

- ``separated``: no cluster holds both a correct and a wrong program;
- ``one cluster``: every kept candidate in one cluster (no judge can help);
- ``right split``: the correct programs fall into more than one cluster (each split
  costs the correct side votes);
- ``largest right``: the expected number of problems on which the largest cluster (a
  seeded pick among the largest) is a correct one, i.e. what selection gets with a
  judge that decides nothing, as the 0.5B one.

and, over the problems whose kept candidates are all correct, how many of them the
inputs split into more than one cluster (harmless to the choice, but each split costs
comparisons: one distinguish and two judge calls per pair).

Nothing is written to the run directory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codestar.evaluation.prepare import grading_rule, prepare_problems
from codestar.execution.engine import Engine
from codestar.execution.types import Program
from codestar.llm.scripted import ScriptedBackend
from codestar.pipeline.config import Models, SolveConfig
from codestar.pipeline.methods import _without_broken
from codestar.pipeline.mutation import mutate_inputs
from codestar.pipeline.orchestrator import Run
from codestar.pipeline.stages.clustering import Clustering, cluster
from codestar.pipeline.stages.synthesis import Synthesized
from codestar.pipeline.trace import Candidate, Round
from codestar.problems.benchmarks import BenchmarkQuery, load_benchmark


async def _clustered(run: Run, kept: Sequence[Candidate], parsed: Synthesized) -> Clustering:
    """The clusters S* forms on these inputs, broken candidates left out."""
    clustering = await cluster(run, kept, parsed.inputs, sources=parsed.sources)
    clustering, _ = await _without_broken(run, kept, parsed, clustering)
    return clustering


def _scores(clustering: Clustering, right: set[int]) -> dict[str, float]:
    clusters = [set(c.members) for c in clustering.clusters]
    mixed = [c for c in clusters if c & right and c - right]
    size = max(len(c) for c in clusters)
    largest = [c for c in clusters if len(c) == size]
    return {
        "separated": float(not mixed),
        "one_cluster": float(len(clusters) == 1),
        "right_split": float(sum(bool(c & right) for c in clusters) > 1),
        "largest_right": sum(c <= right for c in largest) / len(largest),
        "clusters": float(len(clusters)),
        "inputs": float(len(clustering.inputs)),
    }


async def measure(run_dir: Path, benchmark: str, counts: Sequence[int]) -> dict[str, Any]:
    traces = [
        json.loads(line)
        for line in (run_dir / "traces" / "sstar.jsonl").read_text().splitlines()
        if line.strip()
    ]
    loaded = {p.id: p for p in load_benchmark(benchmark, BenchmarkQuery()).problems}
    totals: dict[int, dict[str, float]] = {k: {} for k in counts}
    mixed_ids: list[str] = []
    with Engine() as engine:
        wanted = [loaded[t["problem_id"]] for t in traces if t["problem_id"] in loaded]
        problems = {p.id: p for p in (await prepare_problems(wanted, engine)).problems}
        for trace in traces:
            problem = problems.get(trace["problem_id"])
            if problem is None:
                continue
            kept = [
                Candidate(
                    index=c["index"],
                    rounds=(Round(index=0, completion="", finish_reason="stop", code=c["code"]),),
                )
                for c in trace["candidates"]
                if c.get("passed_public") and c.get("code")
            ]
            if len(kept) < 2:
                continue
            right = set()
            for candidate in kept:
                assert candidate.code is not None
                result = await engine.arun(
                    Program.for_problem(candidate.code, problem),
                    problem.hidden_tests,
                    stop_on_failure=True,
                    rule=grading_rule(problem),
                )
                if result.passed:
                    right.add(candidate.index)
            if not right:
                continue
            model_inputs = [
                text
                for text, source in zip(trace["inputs"], trace["input_sources"], strict=False)
                if source != "mutation"
            ]
            # The model is never asked: only `cluster`'s executions run.
            run = Run(
                problem,
                method="sstar",
                models=Models(ScriptedBackend([])),
                engine=engine,
                config=SolveConfig(),
            )
            everyone = len(right) == len(kept)
            if not everyone:
                mixed_ids.append(problem.id)
            for count in counts:
                mutants = mutate_inputs(problem, count=count, seed=0) if count else ()
                parsed = Synthesized(
                    completion="",
                    inputs=(*model_inputs, *mutants),
                    sources=("model",) * len(model_inputs) + ("mutation",) * len(mutants),
                )
                clustering = await _clustered(run, kept, parsed)
                if everyone:  # all correct: a split only costs comparisons
                    split = float(len(clustering.clusters) > 1)
                    totals[count]["correct_split"] = totals[count].get("correct_split", 0) + split
                    continue
                for key, value in _scores(clustering, right).items():
                    totals[count][key] = totals[count].get(key, 0.0) + value
    return {"mixed_problems": mixed_ids, "by_mutations": totals}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--benchmark", default="humaneval")
    parser.add_argument("--mutations", default="0,8,16,32")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    counts = [int(k) for k in args.mutations.split(",")]
    found = asyncio.run(measure(args.run_dir, args.benchmark, counts))
    mixed = len(found["mixed_problems"])
    print(f"{mixed} problems whose kept candidates mix correct and wrong programs")
    print(
        f"{'mutants':>8} {'separated':>10} {'one cluster':>12} {'right split':>12} "
        f"{'largest right':>14} {'clusters':>9} {'inputs':>7} {'all-right pools split':>22}"
    )
    for count, row in found["by_mutations"].items():
        print(
            f"{count:>8} {row.get('separated', 0):>10.0f} {row.get('one_cluster', 0):>12.0f} "
            f"{row.get('right_split', 0):>12.0f} {row.get('largest_right', 0):>14.1f} "
            f"{row.get('clusters', 0) / max(1, mixed):>9.2f} "
            f"{row.get('inputs', 0) / max(1, mixed):>7.1f} "
            f"{row.get('correct_split', 0):>22.0f}"
        )
    if args.json:
        args.json.write_text(json.dumps(found, indent=2) + "\n")


if __name__ == "__main__":
    main()
