"""`codestar grade --ray` as a user runs it: a subprocess that starts a private local
Ray cluster, grades the same programs as a local `codestar grade`, and leaves no Ray
process behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray")


def codestar(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    return subprocess.run(
        [sys.executable, "-m", "codestar", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def test_grade_on_a_local_ray_cluster_gives_the_local_verdicts(
    shared_data: Path, tmp_path: Path
) -> None:
    solutions = [
        json.loads(line)
        for line in (shared_data / "lcb_v1_gpt-4o-mini_solutions.jsonl").read_text().splitlines()
    ][:12]
    generations = tmp_path / "gens.json"
    generations.write_text(
        json.dumps([{"question_id": s["task_id"], "code_list": [s["solution"]]} for s in solutions])
    )
    problems = str(shared_data / "lcb_release_v1_public.jsonl")
    args = ["grade", "--problems", problems, "--generations", str(generations), "--json"]
    before = raylets()
    local = codestar(*args)
    assert local.returncode == 0, local.stderr
    distributed = codestar(*args, "--ray")
    assert distributed.returncode == 0, distributed.stderr
    assert "ray node" in distributed.stderr and "isolation" in distributed.stderr
    assert json.loads(distributed.stdout)["results"] == json.loads(local.stdout)["results"]
    assert raylets() <= before, "a raylet outlived the command"


def raylets() -> set[str]:
    found = subprocess.run(["pgrep", "-f", "raylet"], capture_output=True, text=True)
    return set(found.stdout.split())
