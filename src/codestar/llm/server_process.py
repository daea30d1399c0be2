"""The child process that hosts llama.cpp's HTTP server (run by `codestar.llm.local`).

    python -m codestar.llm.server_process '{"model": PATH, "threads": 2, ...}'

It starts the server through ``xllamacpp`` on 127.0.0.1 on a free port, writes one JSON
line to stdout (``{"address": "http://127.0.0.1:PORT"}`` or ``{"error": "..."}``), then
waits until its stdin reaches end-of-file and exits at once with ``os._exit``.

Why a child and not a thread of codestar's own process: stopping an in-process server
means deallocating the binding's ``Server``, and that deallocation sometimes never
returns while holding the GIL (seen under load), freezing the whole program. A child can
always be killed. Why stdin: the kernel closes the parent's end of the pipe whenever the
parent ends, by ``exit``, an exception, SIGTERM or ``kill -9``, so the child always
learns of it and no server outlives codestar. Its own process group keeps a terminal's
Ctrl-C away from it: the parent decides when it stops.

It imports nothing from codestar, so it starts fast.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def serve(config: dict[str, Any]) -> None:
    import xllamacpp  # type: ignore[import-untyped]

    params = xllamacpp.CommonParams()
    params.model.path = str(config["model"])
    params.model_alias = {str(config.get("alias", "local"))}
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # the OS picks a free port; listening_address says which
    params.n_parallel = int(config["parallel"])
    params.kv_unified = True  # one shared cache: a long prompt may use idle slots' room
    params.n_ctx = int(config["context"]) * int(config["parallel"])
    params.cpuparams.n_threads = int(config["threads"])
    params.cpuparams_batch.n_threads = int(config["threads"])
    params.n_gpu_layers = 0
    params.ui = False
    params.verbosity = 0
    try:
        server = xllamacpp.Server(params)
        address = str(server.listening_address).rstrip("/")
    except Exception as error:  # the binding raises plain RuntimeErrors and ValueErrors
        _answer({"error": f"{type(error).__name__}: {error}"})
        os._exit(1)
    _answer({"address": address, "pid": os.getpid()})
    while sys.stdin.buffer.read(4096):
        pass  # nothing is ever sent; end-of-file means the parent is gone or wants us gone
    os._exit(0)  # no deallocation, no atexit: the kernel frees the socket and memory


def _answer(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]))
