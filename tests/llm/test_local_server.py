"""The embedded model for real: llama.cpp's server with the 0.5B model, through the backend.

One server is shared by the module's tests (the backends' server sharing makes later
``LocalBackend("local")`` instances join it). The orphan tests run codestar in a child
process that starts a server, end that process every way a user can, and check that the
server process and its port are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from codestar.errors import LocalModelError
from codestar.llm.backend import Backend
from codestar.llm.cpu import CpuArbiter
from codestar.llm.local import LocalBackend, LocalServer
from codestar.llm.types import CompletionRequest, Message, SamplingParams
from codestar.llm.weights import EMBEDDED_MODELS, installed

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(
        not installed(EMBEDDED_MODELS["0.5b"]), reason="the 0.5B weight packages are absent"
    ),
]

REQUEST = CompletionRequest(
    messages=(
        Message("system", "You are a terse assistant."),
        Message("user", "What is 2 + 3? Answer with the number only."),
    ),
    params=SamplingParams(temperature=0.0, max_tokens=8),
)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def backend() -> Iterator[LocalBackend]:
    local = LocalBackend("local", parallel=2)
    asyncio.run(local.start())
    yield local
    asyncio.run(local.aclose())


def test_the_embedded_model_answers_through_the_backend(backend: LocalBackend) -> None:
    assert isinstance(backend, Backend)

    async def ask_twice() -> list[str]:
        first = await backend.complete(REQUEST)
        assert first.model == "local:0.5b"
        assert 0 < first.usage.completion_tokens <= 8
        assert first.usage.prompt_tokens > 10 and first.usage.calls == 1
        assert first.finish_reason in ("stop", "length") and first.latency_s > 0
        second = await backend.complete(REQUEST)
        return [first.text, second.text]

    first, second = asyncio.run(ask_twice())
    assert "5" in first
    assert first == second  # temperature 0 on one slot is deterministic


def test_backends_of_one_model_share_one_server(backend: LocalBackend) -> None:
    assert backend.server is not None
    port = backend.server.port

    async def join_and_leave() -> str:
        other = LocalBackend("local", parallel=2)
        server = await other.start()
        assert server is backend.server
        answer = await other.complete(REQUEST)
        await other.aclose()
        return answer.text

    assert "5" in asyncio.run(join_and_leave())
    assert port_open(port)  # the first backend still holds it


def test_requests_wait_for_their_cpu_turn(backend: LocalBackend) -> None:
    arbiter = CpuArbiter()
    holding, release = threading.Event(), threading.Event()

    def execute() -> None:
        with arbiter.execution():
            holding.set()
            release.wait(10)

    async def main() -> str:
        other = LocalBackend("local", parallel=2, arbiter=arbiter)
        await other.start()  # joins the module's server
        thread = threading.Thread(target=execute)
        thread.start()
        await asyncio.to_thread(holding.wait, 5)
        asking = asyncio.create_task(other.complete(REQUEST))
        await asyncio.sleep(0.5)
        assert not asking.done() and arbiter.stats().waiting == 1
        release.set()
        answer = await asking
        await asyncio.to_thread(thread.join)
        await other.aclose()
        return answer.text

    assert "5" in asyncio.run(main())
    assert arbiter.stats().switches == 2


def test_a_server_that_died_is_started_again() -> None:
    async def main() -> tuple[str, int, int]:
        own = LocalBackend("local", context=1024, parallel=1)  # a server of its own
        server = await own.start()
        first = server.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        for _ in range(50):
            if not server.running:
                break
            await asyncio.sleep(0.1)
        answer = await own.complete(REQUEST)
        second = server.pid
        assert second is not None
        await own.aclose()
        assert not server.running
        return answer.text, first, second

    text, first, second = asyncio.run(main())
    assert "5" in text and first != second


def test_close_frees_the_port(backend: LocalBackend) -> None:
    assert backend.server is not None
    server = LocalServer(backend.server.model_path, context=512, parallel=1)
    port = server.port
    assert port_open(port) and port != backend.server.port
    server.close()
    server.close()  # twice is fine
    assert not port_open(port)


def test_a_broken_gguf_file_is_a_clear_error(tmp_path: Path, backend: LocalBackend) -> None:
    assert backend.server is not None
    broken = tmp_path / "broken.gguf"
    with backend.server.model_path.open("rb") as source:
        broken.write_bytes(source.read(100_000))  # the magic is right, the rest is missing
    with pytest.raises(LocalModelError, match="could not load") as caught:
        LocalServer(broken, context=512, parallel=1).start()
    assert caught.value.hint and "GGUF" in caught.value.hint


CHILD = textwrap.dedent(
    """
    import signal, sys, time
    # As in a terminal: a shell that ran the tests in the background may ignore SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from codestar.llm.local import LocalServer
    from codestar.llm.weights import ensure_weights
    server = LocalServer(ensure_weights("0.5b"), context=512, parallel=1, threads=1)
    print(server.port, server.pid, flush=True)
    mode = sys.argv[1]
    if mode == "raise":
        raise RuntimeError("boom")
    if mode == "exit":
        sys.exit(0)
    time.sleep(120)
    """
)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie is gone too: only its parent (ended) or init may reap it.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    return False


@pytest.mark.parametrize("ending", ["SIGTERM", "SIGINT", "SIGKILL", "raise", "exit"])
def test_no_server_outlives_its_process(ending: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, ending],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        port, server_pid = (int(word) for word in child.stdout.readline().split())
        if ending.startswith("SIG"):
            assert port_open(port)
            child.send_signal(getattr(signal, ending))
        child.wait(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode != 0 if ending != "exit" else child.returncode == 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (gone(server_pid) and not port_open(port)):
        time.sleep(0.1)
    assert gone(server_pid), f"the server process {server_pid} outlived its parent"
    assert not port_open(port)
