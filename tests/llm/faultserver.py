"""A fault-injecting OpenAI-compatible chat-completions server on 127.0.0.1, for tests.

Each request takes the next `Fault` from a script (an ``ok`` reply once the script is
empty), so a test says exactly what the server does: "429 with Retry-After, then 500,
then answer". It records every request body it receives, so tests can count calls.
Replies are a deterministic function of the request (``echo <last message>``), which
makes runs comparable. It is stdlib only (``http.server`` in a daemon thread).

Run it as a script to serve until killed (the overhead benchmark does):
``python tests/llm/faultserver.py`` prints the base URL on its first line.

It is not a model: no tokenizer, no sampling, token counts are word counts.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Kind = Literal["ok", "status", "malformed", "drop", "empty", "hang", "garbage"]
NMode = Literal["support", "ignore", "reject"]


@dataclass(frozen=True, slots=True)
class Fault:
    """What the server does with one request."""

    kind: Kind = "ok"
    status: int = 200
    message: str = ""
    retry_after: str | None = None
    delay_s: float = 0.0
    text: str | None = None
    reasoning_content: str | None = None


def ok(
    text: str | None = None, *, delay_s: float = 0.0, reasoning_content: str | None = None
) -> Fault:
    return Fault("ok", text=text, delay_s=delay_s, reasoning_content=reasoning_content)


def slow(delay_s: float) -> Fault:
    """An ok reply that arrives after ``delay_s`` (set it above the client's timeout)."""
    return Fault("ok", delay_s=delay_s)


def status(code: int, message: str, *, retry_after: str | None = None) -> Fault:
    return Fault("status", status=code, message=message, retry_after=retry_after)


def rate_limited(retry_after: str | None = "0.05") -> Fault:
    return status(429, "Rate limit reached, slow down", retry_after=retry_after)


def server_error() -> Fault:
    return status(500, "internal server error")


def unauthorized() -> Fault:
    return status(401, "Incorrect API key provided")


def model_missing() -> Fault:
    return status(404, "The model does not exist")


def context_overflow() -> Fault:
    return status(400, "This model's maximum context length is 4096 tokens, you asked for 9000")


def malformed() -> Fault:
    """A 200 whose body is not JSON."""
    return Fault("malformed")


def garbage() -> Fault:
    """A 200 whose body is JSON but not a chat completion."""
    return Fault("garbage")


def dropped() -> Fault:
    """Headers promise a body; the connection closes half-way through it."""
    return Fault("drop")


def empty_choices() -> Fault:
    return Fault("empty")


def hang() -> Fault:
    """Never answer (until the server stops): a request in flight forever."""
    return Fault("hang")


class FaultServer:
    """The server; use as a context manager. ``url`` is the OpenAI base URL (``.../v1``).

    ``n_mode`` is how it treats ``n > 1``: ``support`` (OpenAI, vLLM), ``ignore`` (one
    choice, like llama.cpp) or ``reject`` (HTTP 400). ``models``, when given, are the
    only model names it serves; others get a 404. ``responder(body, choice)``, when
    given, writes the text of ok replies instead of `reply_text` (a scripted model for
    whole-pipeline runs), and ``latency_s`` delays every ok reply. ``lists_models``
    False makes ``GET /models`` a 404, as on servers that do not list their models, and
    ``listing_key`` makes it a 401 without that bearer key; ``model_listings`` counts the
    listings it answered.
    """

    def __init__(
        self,
        script: Iterable[Fault] = (),
        *,
        n_mode: NMode = "support",
        models: Iterable[str] | None = None,
        responder: Callable[[dict[str, Any], int], str] | None = None,
        latency_s: float = 0.0,
        lists_models: bool = True,
        listing_key: str | None = None,
    ) -> None:
        self.listing_key = listing_key
        self.responder = responder or reply_text
        self.lists_models = lists_models
        self.model_listings = 0
        self.latency_s = latency_s
        self._script: deque[Fault] = deque(script)
        self.n_mode: NMode = n_mode
        self.models = frozenset(models) if models is not None else None
        self.requests: list[dict[str, Any]] = []
        #: The most requests it was ever answering at once (checks concurrency limits).
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._http.daemon_threads = True
        # A short poll interval makes `stop` quick (the default waits up to 0.5 s).
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def push(self, *faults: Fault) -> None:
        with self._lock:
            self._script.extend(faults)

    def start(self) -> FaultServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._http.shutdown()
        self._http.server_close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next(self, body: dict[str, Any]) -> Fault:
        with self._lock:
            self.requests.append(body)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            return self._script.popleft() if self._script else Fault()

    def _done(self) -> None:
        with self._lock:
            self._in_flight -= 1


def reply_text(body: dict[str, Any], choice: int = 0) -> str:
    """The answer the server gives to ``body`` (tests compute expected texts with it)."""
    messages = body.get("messages") or [{"content": ""}]
    suffix = f" #{choice}" if choice else ""
    return f"echo {messages[-1].get('content', '')}{suffix}"


def _completion(
    body: dict[str, Any],
    choices: int,
    fault: Fault,
    responder: Callable[[dict[str, Any], int], str] = reply_text,
) -> dict[str, Any]:
    prompt_words = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    items: list[dict[str, Any]] = []
    for index in range(choices):
        answer = fault.text if fault.text is not None else responder(body, index)
        message: dict[str, str] = {"role": "assistant", "content": answer}
        if fault.reasoning_content is not None:
            message["reasoning_content"] = fault.reasoning_content
        items.append({"index": index, "message": message, "finish_reason": "stop"})
    completion_words = sum(len(item["message"]["content"].split()) for item in items)
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", ""),
        "choices": items,
        "usage": {
            "prompt_tokens": prompt_words,
            "completion_tokens": completion_words,
            "total_tokens": prompt_words + completion_words,
        },
    }


def _handler_for(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One buffered write per response, sent at once: otherwise headers and body go
        # out as two small packets and Nagle plus delayed ACKs add 40 ms to each call.
        wbufsize = -1
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return None  # keep test output clean

        def _send(self, code: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def _error(self, code: int, message: str, headers: dict[str, str] | None = None) -> None:
            payload = {"error": {"message": message, "type": "fault", "code": code}}
            self._send(code, json.dumps(payload).encode(), headers)

        def do_GET(self) -> None:
            if not server.lists_models:
                self._error(404, "Not Found")
                return
            wanted = f"Bearer {server.listing_key}"
            if server.listing_key and self.headers.get("Authorization") != wanted:
                self._error(401, "Incorrect API key provided")
                return
            server.model_listings += 1
            names = sorted(server.models) if server.models is not None else ["fault-model"]
            data = {"object": "list", "data": [{"id": name, "object": "model"} for name in names]}
            self._send(200, json.dumps(data).encode())

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            fault = server._next(body)
            try:
                self._answer(body, fault)
            finally:
                server._done()

        def _answer(self, body: dict[str, Any], fault: Fault) -> None:
            if fault.delay_s:
                time.sleep(fault.delay_s)
            if fault.kind == "hang":
                server._stopping.wait(120)
                self.close_connection = True
                return
            if fault.kind == "status":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self._error(fault.status, fault.message, headers)
                return
            if fault.kind == "malformed":
                self._send(200, b'{"id": "chatcmpl-x", "choices": [ this is not json')
                return
            if fault.kind == "garbage":
                self._send(200, b'{"unexpected": true}')
                return
            if fault.kind == "drop":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "4096")
                self.end_headers()
                self.wfile.write(b'{"id": "chatcmpl-x", "choi')
                self.wfile.flush()
                self.close_connection = True
                return
            if server.models is not None and body.get("model") not in server.models:
                self._error(404, f"The model `{body.get('model')}` does not exist")
                return
            n = int(body.get("n") or 1)
            if n > 1 and server.n_mode == "reject":
                self._error(400, "Only one completion choice is allowed")
                return
            choices = 0 if fault.kind == "empty" else (n if server.n_mode == "support" else 1)
            if server.latency_s:
                time.sleep(server.latency_s)
            reply = _completion(body, choices, fault, server.responder)
            self._send(200, json.dumps(reply).encode())

    return Handler


def main() -> None:
    """Serve ok replies until killed; the first stdout line is the base URL."""
    with FaultServer() as server:
        sys.stdout.write(server.url + "\n")
        sys.stdout.flush()
        threading.Event().wait()


if __name__ == "__main__":
    main()
