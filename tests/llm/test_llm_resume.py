"""Resume: a run killed with SIGKILL continues from its run store with no repeated call."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from faultserver import FaultServer, hang, ok

#: A miniature run: 20 distinct prompts through StoredBackend, one after another.
RUN = """
import asyncio, json, sys, time
from codestar.llm.openai_backend import OpenAIBackend
from codestar.llm.retry import RetryPolicy
from codestar.llm.store import RunStore
from codestar.llm.stored import StoredBackend
from codestar.llm.types import CompletionRequest, Message, SamplingParams

url, run_dir, out = sys.argv[1:4]

async def main() -> None:
    store = RunStore(run_dir)
    inner = OpenAIBackend("fault-model", base_url=url, timeout_s=60,
                          retry_policy=RetryPolicy(max_retries=0))
    backend = StoredBackend(inner, store, role="generator")
    texts = []
    for i in range(20):
        request = CompletionRequest(messages=(Message("user", f"task {i}"),),
                                    params=SamplingParams(temperature=0.8), sample_index=i % 3,
                                    stage="generate", problem_id=f"p{i % 4}")
        texts.append((await backend.complete(request)).text)
        time.sleep(0.01)
    await backend.aclose()
    store.close()
    with open(out, "w") as handle:
        json.dump(texts, handle)

asyncio.run(main())
"""


def start(script: Path, url: str, run_dir: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(script), url, str(run_dir), str(out)])


def wait_for(condition: object, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_killed_run_resumes_without_repeating_a_finished_call(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(RUN)

    with FaultServer() as server:
        reference = start(script, server.url, tmp_path / "whole", tmp_path / "whole.json")
        assert reference.wait(timeout=60) == 0
        assert server.count == 20
    expected = json.loads((tmp_path / "whole.json").read_text())

    with FaultServer([ok()] * 7 + [hang()]) as server:
        run_dir, out = tmp_path / "killed", tmp_path / "killed.json"
        first = start(script, server.url, run_dir, out)
        # Kill it while call 8 is in flight: calls 1-7 are finished and stored.
        wait_for(lambda: server.count == 8)
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(timeout=30) == -signal.SIGKILL
        assert not out.exists()
        finished = server.requests[:7]

        second = start(script, server.url, run_dir, out)
        assert second.wait(timeout=60) == 0
        resumed = server.requests[8:]

    assert not any(body in finished for body in resumed), "a finished call was repeated"
    assert len(resumed) == 13 and resumed[0] == server.requests[7]
    assert json.loads(out.read_text()) == expected
