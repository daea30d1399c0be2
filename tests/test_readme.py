"""The README's Python example runs as written (on the embedded model)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

sys.path.insert(0, str(REPO / "tests" / "llm"))
from modelrate import LONGEST_S, time_budget_s  # noqa: E402


@pytest.mark.model
@pytest.mark.timeout(LONGEST_S + 300)
def test_the_readme_python_example_runs() -> None:
    # The example is small (2 samples, 256 tokens a call): at most about 2,500 tokens.
    budget = time_budget_s(2500)
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "the README has no Python example"
    run = subprocess.run(
        [sys.executable, "-c", blocks[0]], cwd=REPO, capture_output=True, text=True, timeout=budget
    )
    assert run.returncode == 0, run.stderr[-2000:]
    reason, _, program = run.stdout.partition("\n")
    assert reason.strip() and program.strip()
