"""The README's Python example runs as written (on the embedded model)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.model
def test_the_readme_python_example_runs() -> None:
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "the README has no Python example"
    run = subprocess.run(
        [sys.executable, "-c", blocks[0]], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-2000:]
    reason, _, program = run.stdout.partition("\n")
    assert reason.strip() and program.strip()
