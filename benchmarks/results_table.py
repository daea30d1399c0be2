"""A Markdown results table from an eval run directory (for docs/results/).

    .venv/bin/python benchmarks/results_table.py RUN_DIR [--baseline zero-shot]

Prints pass@1 per method with its 95% interval and the gain over ``--baseline``
(absolute points and relative, the way the paper's Table 1 reads), the pool's oracle
pass@N and that of the undebugged samples, the expected pass@1 of a random pick among
the candidates that pass the public tests, model calls (new and reused) and tokens,
the paired wins and losses of the first method against each other one, and the exact
command and settings from the manifest. It reads `summary.json` and `manifest.json` only.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path
from typing import Any


def _rate(data: dict[str, Any]) -> str:
    if not data.get("graded"):
        return "-"
    low, high = data["ci95"]
    shown = f"{100 * data['rate']:.1f} [{100 * low:.1f}, {100 * high:.1f}]"
    return f"{shown} ({data['passed']}/{data['graded']})"


def _expected(data: dict[str, Any]) -> str:
    if not data.get("graded"):
        return "-"
    return f"{100 * data['rate']:.1f} ({data['expected_passed']:.1f}/{data['graded']})"


def table(run_dir: Path, baseline: str) -> str:
    summary = json.loads((run_dir / "summary.json").read_text())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    methods = summary["methods"]
    base = methods.get(baseline, {}).get("pass_at_1", {}).get("rate")
    lines = [
        f"Benchmark `{manifest['benchmark'].get('name')}`, {summary['problems']} problems; "
        f"model `{manifest['models']['generator']}`; N={manifest['solve']['samples']}, "
        f"R={manifest['solve']['rounds']}, temperature {manifest['solve']['temperature']}, "
        f"seed {manifest['solve']['seed']}; codestar {manifest['codestar_version']} "
        f"({manifest.get('git_commit') or 'no git commit'}).",
        "",
        f"| method | pass@1 % [95% CI] | vs {baseline} | pool pass@N % | "
        "undebugged samples pass@N % | random public-passing pick, expected | new calls | "
        "reused calls | tokens |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, data in methods.items():
        rate = data["pass_at_1"].get("rate")
        if rate is None or base is None:
            gain = "-"
        else:
            relative = f", x{rate / base:.2f}" if base else ""
            gain = f"{100 * (rate - base):+.1f} pts{relative}"
        lines.append(
            f"| {name} | {_rate(data['pass_at_1'])} | {gain} | {_rate(data['pass_at_n'])} | "
            f"{_rate(data.get('pass_at_n_samples') or {})} | "
            f"{_expected(data.get('random_pick') or {})} | {data['new_calls']} | "
            f"{data['reused_calls']} | "
            f"{data['total_usage']['total_tokens']:,} |"
        )
    if summary.get("paired"):
        lines += ["", "| paired | only the first solved | only the second | both | neither |"]
        lines.append("|---|---|---|---|---|")
        for pair in summary["paired"]:
            lines.append(
                f"| {pair['first']} vs {pair['second']} | {pair['wins']} | {pair['losses']} | "
                f"{pair['both']} | {pair['neither']} |"
            )
    command = manifest.get("command") or []
    if command:
        shown = ["codestar", *command[1:]] if command else []
        lines += ["", "```bash", shlex.join(shown), "```"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--baseline", default="zero-shot")
    args = parser.parse_args()
    print(table(args.run_dir, args.baseline))


if __name__ == "__main__":
    main()
