"""A scripted "model" for whole `codestar solve` runs against `tests/llm/faultserver.py`.

`respond(body, choice)` answers a chat request deterministically from its content (the
messages and the seed), so two runs that send the same requests get the same answers
and their results can be compared; `start_server` runs the fault-injecting server with
it. It knows the problem `examples/reverse-words.md` and tells the stages apart by
words their prompts contain; anything else gets an empty answer.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "reverse-words.md"

# The fault server lives with the LLM tests; tests there import it the same way.
sys.path.insert(0, str(REPO / "tests" / "llm"))

from faultserver import Fault, FaultServer  # noqa: E402

RIGHT = "print(' '.join(reversed(input().split())))\n"
WRONG = "print(input())\n"
#: Passes both examples (at most three words) but not longer lines.
SNEAKY = "w = input().split()\nprint(' '.join(w[::-1] if len(w) < 4 else w))\n"
#: Right, but written differently from RIGHT: same cluster, another program.
RIGHT_TOO = "print(*input().split()[::-1])\n"


def _digest(body: dict[str, Any]) -> int:
    material = json.dumps([body.get("messages"), body.get("seed")], sort_keys=True)
    return int(hashlib.sha256(material.encode()).hexdigest(), 16)


def fenced(code: str) -> str:
    return f"Here it is.\n```python\n{code}```\n"


def respond(body: dict[str, Any], choice: int = 0) -> str:
    """The answer to ``body``: a function of its messages and seed only."""
    prompt = str(body["messages"][-1]["content"])
    pick = _digest(body) + choice
    if "Which program" in prompt:
        program_a = prompt[prompt.index("Program A") : prompt.index("Program B")]
        right = "reversed" in program_a or ("[::-1]" in program_a and "len(w)" not in program_a)
        return "Answer: A" if right else "Answer: B"
    if "Two programs were written" in prompt:
        return "```\nx y z w\n```"
    if "Earlier attempts" in prompt:
        return fenced([RIGHT, SNEAKY, RIGHT_TOO][pick % 3])
    if "test inputs" in prompt:
        return "```\na b c d\n```\n```\nsolo\n```"
    # Samples differ by seed: every fourth is wrong and needs a debug round.
    return fenced([WRONG, RIGHT, SNEAKY, RIGHT_TOO][int(body.get("seed") or 0) % 4])


def start_server(
    script: tuple[Fault, ...] = (),
    *,
    latency_s: float = 0.0,
    models: tuple[str, ...] | None = None,
    lists_models: bool = True,
) -> FaultServer:
    return FaultServer(
        script, responder=respond, latency_s=latency_s, models=models, lists_models=lists_models
    ).start()


def request_key(messages: Any, seed: Any) -> str:
    """What tells two requests apart for these tests (the server sees no sample index,
    but every sample has its own seed)."""
    return json.dumps([messages, seed], sort_keys=True)


def codestar_solve(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return codestar("solve", *args, timeout=timeout)


def codestar(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m codestar ARGS`` as a user would (``env``: the whole environment)."""
    return subprocess.run(
        [sys.executable, "-m", "codestar", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
    )
