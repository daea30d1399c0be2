"""Replay the judge of a finished S* run with another model, where it matters.

    .venv/bin/python benchmarks/judge_replay.py --run-dir RUN [--judge local:1.5b]
        [--problems-from humaneval] [--threads 4] [--json OUT]

An S* comparison matters to the result only when exactly one of its two programs passes
the hidden tests. This script finds those comparisons in an eval run directory (the
sstar trace, each representative graded again on the hidden tests in the sandbox),
takes the two judge prompts the run actually sent (both orders, from its run store),
and asks them again of ``--judge`` on the embedded llama.cpp server:

- **text**: the prompt as sent, answered at temperature 0 and parsed as the pipeline
  parses it; a comparison is decided when both orders name the same program;
- **logprob**: the same prompt ending in "Reply with one letter only: A or B", one
  token with ``logprobs``; the order-balanced preference for the first program is
  ``(P(A | it is A) + P(B | it is B)) / 2``, which cancels a constant position bias.

It prints how many decided comparisons chose the correct program. Nothing is written to
the run directory; the model's answers are not stored.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import math
import sqlite3
import sys
import urllib.request
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codestar.evaluation.prepare import grading_rule, prepare_problems
from codestar.execution.engine import Engine
from codestar.execution.types import Program
from codestar.llm.local import LocalServer
from codestar.llm.weights import embedded_model, ensure_weights
from codestar.pipeline.judgement import parse_choice
from codestar.pipeline.stages.comparison import agreed_winner
from codestar.problems.benchmarks import BenchmarkQuery, load_benchmark

ONE_LETTER = (
    "Which program solves the problem correctly? For the inputs where they differ, work out "
    "the correct output from the problem statement, then decide.\n"
    "Reply with one letter only: A or B."
)
ASK = "Which program solves"  # where the stored judge prompt's question starts

Messages = list[dict[str, str]]


async def informative(run_dir: Path, benchmark: str) -> list[dict[str, Any]]:
    """The comparisons whose two representatives differ on the hidden tests, each with
    its two stored judge prompts (first program as A, then as B)."""
    traces = [
        json.loads(line)
        for line in (run_dir / "traces" / "sstar.jsonl").read_text().splitlines()
        if line.strip()
    ]
    traces = [t for t in traces if t["comparisons"]]
    loaded = {p.id: p for p in load_benchmark(benchmark, BenchmarkQuery()).problems}
    store = sqlite3.connect(f"file:{run_dir / 'run.sqlite'}?mode=ro", uri=True)
    found = []
    with Engine() as engine:
        wanted = [loaded[t["problem_id"]] for t in traces]
        problems = {p.id: p for p in (await prepare_problems(wanted, engine)).problems}
        for trace in traces:
            problem = problems[trace["problem_id"]]
            code = {c["index"]: c["code"] for c in trace["candidates"]}
            prompts = [
                json.loads(text)
                for (text,) in store.execute(
                    "SELECT messages FROM llm_calls WHERE stage = 'judge' AND problem_id = ? "
                    "AND error IS NULL",
                    (problem.id,),
                )
            ]
            for comparison in trace["comparisons"]:
                first, second = comparison["representatives"]
                passed = []
                for index in (first, second):
                    result = await engine.arun(
                        Program.for_problem(code[index], problem),
                        problem.hidden_tests,
                        stop_on_failure=True,
                        rule=grading_rule(problem),
                    )
                    passed.append(result.passed)
                if passed[0] == passed[1]:
                    continue
                straight = _prompt(prompts, code[first], code[second])
                swapped = _prompt(prompts, code[second], code[first])
                if straight is None or swapped is None:
                    continue
                found.append(
                    {
                        "problem_id": problem.id,
                        "correct": 0 if passed[0] else 1,
                        "prompts": (straight, swapped),
                        "recorded": comparison["answers"],
                    }
                )
    return found


def _prompt(prompts: list[Messages], code_a: str, code_b: str) -> Messages | None:
    for messages in prompts:
        text = messages[-1]["content"]
        at_a, at_b = text.find("Program A:"), text.find("Program B:")
        if 0 <= at_a < at_b and code_a in text[at_a:at_b] and code_b in text[at_b:]:
            return messages
    return None


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url + "/chat/completions", json.dumps(body).encode(), {"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=1800) as response:
        return dict(json.load(response))


def judge(url: str, item: dict[str, Any], max_tokens: int) -> dict[str, Any]:
    """Both modes, both orders, for one comparison."""
    texts = [
        _post(url, {"messages": m, "max_tokens": max_tokens, "temperature": 0})["choices"][0][
            "message"
        ]["content"]
        for m in item["prompts"]
    ]
    answers = [parse_choice(text) for text in texts]
    winner = agreed_winner(0, 1, (answers[0], answers[1]))
    share_a = []
    for messages in item["prompts"]:
        asked = [dict(m) for m in messages]
        text = asked[-1]["content"]
        asked[-1]["content"] = text[: text.rfind(ASK)] + ONE_LETTER
        reply = _post(
            url,
            {"messages": asked, "max_tokens": 1, "temperature": 0, "logprobs": True,
             "top_logprobs": 20},
        )  # fmt: skip
        mass = {"A": 0.0, "B": 0.0}
        for token in reply["choices"][0]["logprobs"]["content"][0]["top_logprobs"]:
            letter = token["token"].strip().upper()
            if letter in mass:
                mass[letter] += math.exp(token["logprob"])
        total = mass["A"] + mass["B"]
        share_a.append(mass["A"] / total if total else 0.5)
    preference = (share_a[0] + 1 - share_a[1]) / 2  # for the first program
    return {
        "problem_id": item["problem_id"],
        "correct": item["correct"],
        "recorded": item["recorded"],
        "answers": answers,
        "winner": winner,
        "p_a": share_a,
        "preference_first": preference,
        "texts": texts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--judge", default="local", help="local, local:0.5b or local:1.5b")
    parser.add_argument("--problems-from", help="benchmark name (default: the manifest's)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=768)
    parser.add_argument("--json", type=Path, help="write every answer here")
    args = parser.parse_args()
    manifest = json.loads((args.run_dir / "manifest.json").read_text())
    benchmark = args.problems_from or manifest["benchmark"]["name"]
    items = asyncio.run(informative(args.run_dir, benchmark))
    print(f"{len(items)} comparisons with exactly one correct program", flush=True)
    name = args.judge.partition(":")[2] or "0.5b"
    with LocalServer(ensure_weights(embedded_model(name)), alias=args.judge) as server:
        url = server.base_url
        with concurrent.futures.ThreadPoolExecutor(args.threads) as pool:
            rows = list(pool.map(lambda item: judge(url, item, args.max_tokens), items))
    decided = [r for r in rows if r["winner"] is not None]
    right = sum(r["winner"] == r["correct"] for r in decided)
    leaning = [r for r in rows if r["preference_first"] != 0.5]
    lp_right = sum((r["preference_first"] > 0.5) == (r["correct"] == 0) for r in leaning)
    print(f"judge {args.judge}, {len(rows)} comparisons")
    print(f"text: decided {len(decided)}, right {right}, wrong {len(decided) - right}")
    print(f"logprob: right {lp_right}, wrong {len(leaning) - lp_right}")
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
