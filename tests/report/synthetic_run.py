"""A large synthetic eval run dir (no model, no sandbox) to measure the report's size.

`write_synthetic_run` writes ``results.jsonl`` and ``traces/<method>.jsonl`` as the runner
would for ``problems`` problems x ``samples`` candidates: programs of realistic length
(about 40 lines), model answers that wrap them in prose, half the candidates debugged
once, 10 synthesized inputs, a few clusters and comparisons. S* and majority vote share
the pool, as they do in a real run. The content is made from seeded random choices so
that it does not compress better than real code would.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from codestar.evaluation.results import ResultRow, ResultsFile, StageUsage

WORDS = [
    "total",
    "count",
    "left",
    "right",
    "index",
    "value",
    "answer",
    "result",
    "queue",
    "graph",
    "weight",
    "best",
    "seen",
    "limit",
    "start",
    "end",
    "mid",
    "node",
    "edge",
    "cost",
    "dist",
    "visited",
    "stack",
    "prefix",
    "suffix",
    "window",
    "pair",
    "grid",
    "row",
    "col",
]


def _program(rng: random.Random, lines: int = 40) -> str:
    body = ["import sys", "def main():", "    data = sys.stdin.read().split()"]
    for _ in range(lines - 5):
        a, b, c = rng.sample(WORDS, 3)
        body.append(f"    {a} = {b} + {c} * {rng.randint(0, 999)}  # {rng.choice(WORDS)}")
    body += ["    print(answer)", "main()"]
    return "\n".join(body) + "\n"


def _tests(rng: random.Random, passed: bool) -> list[dict[str, Any]]:
    return [
        {
            "input": f"{rng.randint(1, 10**6)} {rng.randint(1, 10**6)}\n",
            "expected": f"{rng.randint(1, 10**6)}\n",
            "verdict": "passed" if passed or index else "wrong_answer",
            "output": f"{rng.randint(1, 10**6)}\n",
            "error": None,
        }
        for index in range(3)
    ]


def _round(rng: random.Random, index: int, code: str, passed: bool) -> dict[str, Any]:
    usage = {"prompt_tokens": 900, "completion_tokens": 450, "total_tokens": 1350, "calls": 1}
    prose = " ".join(rng.choice(WORDS) for _ in range(60))
    return {
        "index": index,
        "completion": f"{prose}\n```python\n{code}```\n",
        "finish_reason": "stop",
        "code": code,
        "failure": None,
        "passed": passed,
        "tests": _tests(rng, passed),
        "usage": usage,
    }


def _candidate(rng: random.Random, index: int) -> dict[str, Any]:
    first = _program(rng)
    rounds = [_round(rng, 0, first, passed=index % 2 == 0)]
    if index % 2:
        fixed = first.replace("+", "-", 3)
        rounds.append(_round(rng, 1, fixed, passed=True))
    return {
        "index": index,
        "code": rounds[-1]["code"],
        "passed_public": True,
        "public_passed": 3,
        "rounds": rounds,
    }


def _trace(rng: random.Random, problem_id: str, method: str, samples: int) -> dict[str, Any]:
    candidates = [_candidate(rng, i) for i in range(samples)]
    inputs = [f"{rng.randint(1, 10**9)} {rng.randint(1, 10**9)}\n" for _ in range(10)]
    members = [list(range(samples))[k::4] for k in range(4)]
    clusters = [
        {"index": k, "members": m, "outputs": [str(rng.randint(0, 99)) for _ in inputs]}
        for k, m in enumerate(members)
    ]
    report = {"input": inputs[0], "expected": None, "verdict": "passed", "output": "1\n"}
    comparisons = [
        {
            "first": a,
            "second": b,
            "representatives": [members[a][0], members[b][0]],
            "inputs": inputs[:2],
            "inputs_dropped": 0,
            "inputs_source": "model",
            "inputs_completion": "```\n1 2\n```",
            "first_outputs": [report, report],
            "second_outputs": [report, report],
            "answers": ["A", "B"],
            "judgements": [" ".join(rng.choice(WORDS) for _ in range(80))] * 2,
            "winner": a,
        }
        for a, b in ((0, 1), (0, 2), (0, 3))
    ]
    return {
        "problem_id": problem_id,
        "method": method,
        "program": candidates[0]["code"],
        "selection": {"candidate": 0, "cluster": 0, "rule": "algorithm-1", "reason": "won"},
        "candidates": candidates,
        "inputs": inputs,
        "inputs_dropped": 0,
        "inputs_discarded": [],
        "inputs_completion": "```\n" + "```\n```\n".join(inputs) + "```",
        "clusters": clusters,
        "comparisons": comparisons if method == "sstar" else [],
        "generated_tests": [],
        "usage": {},
        "total_usage": {"total_tokens": 1350 * samples * 3 // 2},
    }


def write_synthetic_run(run_dir: Path, *, problems: int = 500, samples: int = 16) -> None:
    """An eval run dir of ``problems`` problems with methods sstar and majority-vote."""
    (run_dir / "traces").mkdir(parents=True, exist_ok=True)
    results = ResultsFile(run_dir)
    files = {m: (run_dir / "traces" / f"{m}.jsonl").open("w") for m in ("sstar", "majority-vote")}
    try:
        for number in range(problems):
            rng = random.Random(number)
            problem_id = f"synthetic-{number:04d}"
            base = _trace(rng, problem_id, "sstar", samples)
            for method, file in files.items():
                trace = dict(base, method=method)
                if method != "sstar":
                    trace["comparisons"] = []
                file.write(json.dumps(trace) + "\n")
                results.append(
                    ResultRow(
                        problem_id=problem_id,
                        method=method,
                        passed=rng.random() < 0.5,
                        hidden_tests=10,
                        difficulty=rng.choice(["easy", "medium", "hard"]),
                        platform="synthetic",
                        candidates=samples,
                        candidates_passing_public=samples,
                        pool_size=samples,
                        pool_passed=rng.randint(0, samples),
                        clusters=4,
                        comparisons=3 if method == "sstar" else 0,
                        usage={"generate": StageUsage(prompt_tokens=900, calls=samples)},
                    )
                )
    finally:
        for file in files.values():
            file.close()
