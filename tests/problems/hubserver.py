"""A stand-in for the Hugging Face hub on 127.0.0.1: serves dataset files by name.

It answers ``HEAD`` and ``GET /datasets/<repo>/resolve/<revision>/<file>`` the way
``huggingface_hub.hf_hub_download`` expects (commit, ETag and size headers; 404 with the
hub's error code for an unknown file), and records the paths asked for.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class HubServer:
    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = dict(files)
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self) -> bytes | None:
                server.requests.append(f"{self.command} {self.path}")
                name = self.path.rsplit("/", 1)[-1]
                body = server.files.get(name)
                if body is None:
                    self.send_response(404)
                    self.send_header("X-Error-Code", "EntryNotFound")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                self.send_response(200)
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("ETag", f'"{hashlib.sha1(body).hexdigest()}"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                return body

            def do_HEAD(self) -> None:
                self.answer()

            def do_GET(self) -> None:
                body = self.answer()
                if body is not None:
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.http.server_port}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving and close the port (connections are then refused)."""
        self.http.shutdown()
        self.http.server_close()
        self.thread.join()


@contextmanager
def hub_server(files: Mapping[str, bytes]) -> Iterator[HubServer]:
    server = HubServer(files)
    try:
        yield server
    finally:
        if server.thread.is_alive():
            server.close()
