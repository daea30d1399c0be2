"""The data of one problem's panel: what the page's script shows when a row is opened.

`problem_panel` turns the traces of one problem (one per method, as
`SolveResult.to_dict()` wrote them) and their result rows into one JSON-ready dict:
each candidate's rounds with a diff to the previous round and the feedback the next
round was given, the execution matrix (kept candidates x synthesized inputs, each cell
an output class per input), the clusters, the comparisons, the selection and the
hidden-test result. Methods that share a pool of candidates (a run's methods reuse the
same samples) keep one copy of it.

Every string here is untrusted (model text, program output): the page embeds this as
compressed JSON in a data block (`codestar.report.markup.data_block`) and its script
writes it with ``textContent`` only. Nothing here escapes or renders HTML.

    >>> round_diff(None, "print(1)\\n")
    ''
    >>> round_diff("print(1)\\n", "print(2)\\n").splitlines()[-2:]
    ['-print(1)', '+print(2)']
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from codestar.evaluation.results import ResultRow
from codestar.execution.types import Verdict
from codestar.pipeline.prompts import DebugRound, ObservedRun, TestFeedback, format_feedback
from codestar.problems.model import Problem, ProblemKind

Trace = Mapping[str, Any]


def round_diff(previous: str | None, code: str | None) -> str:
    """A unified diff from the previous round's program to this one (``''``: nothing to
    compare, the first round or a round without a program)."""
    if previous is None or code is None:
        return ""
    lines = difflib.unified_diff(
        previous.splitlines(), code.splitlines(), "previous", "this round", lineterm=""
    )
    return "\n".join(lines)


def around(text: str, code: str | None) -> str | list[str]:
    """``text`` with its first copy of ``code`` cut out as ``[before, after]`` (the page
    puts the round's code back in between), or ``text`` itself when it holds no copy.
    Model answers and feedback quote the program; this keeps one copy per round.

    >>> around("see:\\nx = 1\\ndone", "x = 1")
    ['see:\\n', '\\ndone']
    """
    if not code or code not in text:
        return text
    before, after = text.split(code, 1)
    return [before, after]


def feedback_of(round_data: Mapping[str, Any], kind: ProblemKind) -> str:
    """The feedback on one round as the debug prompt words it (the prompt of the next
    round shows it for every earlier round)."""
    tests = tuple(
        TestFeedback(
            str(test["input"]),
            test.get("expected"),
            ObservedRun(Verdict(test["verdict"]), str(test.get("output") or ""), test.get("error")),
        )
        for test in round_data.get("tests", ())
    )
    return format_feedback([DebugRound(round_data.get("code") or "", tests)], kind=kind)


def _candidate(candidate: Mapping[str, Any], kind: ProblemKind) -> dict[str, Any]:
    rounds = list(candidate.get("rounds", ()))
    shown = []
    previous: str | None = None
    for position, data in enumerate(rounds):
        code = data.get("code")
        followed = position + 1 < len(rounds)
        shown.append(
            {
                "index": data.get("index", position),
                "code": code,
                "diff": round_diff(previous, code),
                "completion": around(str(data.get("completion") or ""), code),
                "finish_reason": data.get("finish_reason"),
                "failure": data.get("failure"),
                "passed": bool(data.get("passed")),
                "tests": [_test(t) for t in data.get("tests", ())],
                # Only a round that was followed by another had its feedback shown.
                "feedback": around(feedback_of(data, kind), code) if followed else "",
                "tokens": int((data.get("usage") or {}).get("total_tokens", 0)),
                "notes": list(data.get("notes") or ()),
            }
        )
        previous = code if code is not None else previous
    return {
        "index": candidate.get("index"),
        "passed": bool(candidate.get("passed_public")),
        "public_passed": candidate.get("public_passed", 0),
        "rounds": shown,
    }


def _test(test: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "input": test.get("input", ""),
        "expected": test.get("expected"),
        "verdict": test.get("verdict"),
        "output": test.get("output", ""),
        "error": test.get("error"),
    }


def execution_matrix(clusters: Sequence[Mapping[str, Any]], inputs: int) -> dict[str, Any]:
    """Kept candidates x inputs; a cell is the class of its output among that input's
    distinct outputs (0 = the most common), so colours compare within a column.

    >>> execution_matrix([{"members": [0, 2], "outputs": ["1", "2"]},
    ...                   {"members": [1], "outputs": ["1", "3"]}], 2)["rows"]
    [{'candidate': 0, 'cluster': 0, 'cells': [0, 0]}, {'candidate': 2, 'cluster': 0, \
'cells': [0, 0]}, {'candidate': 1, 'cluster': 1, 'cells': [0, 1]}]
    """
    classes: list[dict[str, int]] = []
    for column in range(inputs):
        counts: dict[str, int] = {}
        for cluster in clusters:
            outputs = cluster.get("outputs", ())
            if column < len(outputs):
                output = str(outputs[column])
                counts[output] = counts.get(output, 0) + len(cluster.get("members", ()))
        ranked = sorted(counts, key=lambda output: -counts[output])
        classes.append({output: rank for rank, output in enumerate(ranked)})
    rows = []
    for number, cluster in enumerate(clusters):
        outputs = [str(o) for o in cluster.get("outputs", ())]
        cells = [classes[c].get(outputs[c], -1) if c < len(outputs) else -1 for c in range(inputs)]
        for member in cluster.get("members", ()):
            rows.append({"candidate": member, "cluster": number, "cells": cells})
    return {"rows": rows}


def _method(
    trace: Trace | None, row: ResultRow | None, method: str, pool: int | None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"method": method, "pool": pool, "row": _row(row)}
    if trace is None:
        entry["trace"] = None
        return entry
    inputs = list(trace.get("inputs", ()))
    clusters = list(trace.get("clusters", ()))
    entry["trace"] = {
        "program": trace.get("program"),
        "selection": dict(trace.get("selection") or {}),
        "inputs": inputs,
        "input_sources": list(trace.get("input_sources") or ()),
        "inputs_discarded": list(trace.get("inputs_discarded", ())),
        "inputs_dropped": trace.get("inputs_dropped", 0),
        "inputs_completion": trace.get("inputs_completion", ""),
        "clusters": clusters,
        "matrix": execution_matrix(clusters, len(inputs)),
        "comparisons": list(trace.get("comparisons", ())),
        "generated_tests": list(trace.get("generated_tests", ())),
        "usage": dict(trace.get("usage") or {}),
        "timings": dict(trace.get("timings") or {}),
        "stopped": trace.get("stopped"),
        "comparisons_planned": trace.get("comparisons_planned"),
        "voters_excluded": list(trace.get("voters_excluded") or ()),
        "context_overflows": list(trace.get("context_overflows") or ()),
        "models": dict(trace.get("models") or {}),
    }
    return entry


def _row(row: ResultRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "passed": row.passed,
        "hidden_tests": row.hidden_tests,
        "hidden_passed": row.hidden_passed,
        "pool_passed": row.pool_passed,
        "pool_size": row.pool_size,
        "error": row.error,
        "stopped": row.stopped,
        "wall_s": row.wall_s,
        "tokens": row.total_usage.total_tokens,
    }


def problem_panel(
    problem_id: str,
    methods: Sequence[str],
    traces: Mapping[str, Trace],
    rows: Mapping[str, ResultRow],
    problem: Problem | None = None,
) -> dict[str, Any]:
    """The panel of ``problem_id``: every method in ``methods`` with its trace (from
    ``traces``, by method) and its row (from ``rows``), pools shared where identical."""
    kind = problem.kind if problem is not None else ProblemKind.STDIN
    pools: list[list[dict[str, Any]]] = []
    known: dict[str, int] = {}
    shown = []
    for method in methods:
        trace = traces.get(method)
        pool: int | None = None
        if trace is not None:
            candidates = [_candidate(c, kind) for c in trace.get("candidates", ())]
            key = json.dumps(candidates, sort_keys=True)
            pool = known.get(key)
            if pool is None:
                pool = known[key] = len(pools)
                pools.append(candidates)
        if trace is not None or method in rows:
            shown.append(_method(trace, rows.get(method), method, pool))
    return {
        "id": problem_id,
        "statement": problem.statement if problem is not None else None,
        "title": problem.title if problem is not None else "",
        "pools": pools,
        "methods": shown,
    }
