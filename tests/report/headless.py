"""A headless Chromium driven over the DevTools protocol on a pipe (no driver, no socket).

Chromium started with ``--remote-debugging-pipe`` reads protocol messages on fd 3 and
writes on fd 4, each a JSON object ended by a NUL byte. `Browser` starts it, attaches
to its page, and offers what the report tests need: open a file, evaluate JavaScript,
take a screenshot, and everything the page logged as an error (console errors,
uncaught exceptions, Content-Security-Policy violations, dialogs such as ``alert``).

`find_chromium` is ``None`` where no Chromium is installed; the tests skip then.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _high_pipe() -> tuple[int, int]:
    """A pipe whose ends are fds 10 or above, so that the shell's ``3<&N 4>&M`` cannot
    overwrite one end with the other."""
    ends = os.pipe()
    high = tuple(fcntl.fcntl(end, fcntl.F_DUPFD_CLOEXEC, 10) for end in ends)
    for end in ends:
        os.close(end)
    return high[0], high[1]


class BrowserError(Exception):
    pass


class Browser:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, executable: str, profile: Path, width: int = 1400, height: int = 1000):
        self._to_browser_read, self._to_browser = _high_pipe()
        self._from_browser, self._from_browser_write = _high_pipe()
        command = [
            executable,
            "--headless",
            "--remote-debugging-pipe",
            "--no-sandbox",  # tests run as root in containers
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        # bash (not dash: it reads one-digit fds only) maps the pipe ends onto fds 3 and 4,
        # where Chromium expects them.
        script = f'exec "$@" 3<&{self._to_browser_read} 4>&{self._from_browser_write}'
        self._process = subprocess.Popen(
            ["bash", "-c", script, "chromium", *command],
            pass_fds=(self._to_browser_read, self._from_browser_write),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(self._to_browser_read)
        os.close(self._from_browser_write)
        self._next_id = 0
        self._replies: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.events: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._session = self._attach()
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b"\0" in buffer:
                message, buffer = buffer.split(b"\0", 1)
                data = json.loads(message)
                if "id" in data:
                    with self._lock:
                        waiting = self._replies.get(data["id"])
                    if waiting is not None:
                        waiting.put(data)
                else:
                    self.events.append(data)

    def _call(self, method: str, session: str | None, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._next_id += 1
            number = self._next_id
            reply: queue.Queue[dict[str, Any]] = queue.Queue()
            self._replies[number] = reply
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        try:
            data = reply.get(timeout=60)
        except queue.Empty as error:
            raise BrowserError(f"{method}: no answer from Chromium") from error
        if "error" in data:
            raise BrowserError(f"{method}: {data['error']}")
        return data.get("result", {})  # type: ignore[no-any-return]

    def _attach(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            targets = self._call("Target.getTargets", None, {})["targetInfos"]
            pages = [t for t in targets if t["type"] == "page"]
            if pages:
                attached = self._call(
                    "Target.attachToTarget",
                    None,
                    {"targetId": pages[0]["targetId"], "flatten": True},
                )
                return str(attached["sessionId"])
            time.sleep(0.1)
        raise BrowserError("Chromium opened no page")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """A protocol command to the page."""
        return self._call(method, self._session, params)

    def open(self, path: Path) -> None:
        """Load ``path`` and wait for its load event."""
        seen = len(self.events)
        self.send("Page.navigate", url=path.resolve().as_uri())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(e.get("method") == "Page.loadEventFired" for e in self.events[seen:]):
                return
            time.sleep(0.05)
        raise BrowserError(f"{path} did not finish loading")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression on the page (promises awaited)."""
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float = 20) -> Any:
        """The first truthy value of ``expression``, polled (the page works asynchronously)."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"{expression!r} stayed false for {timeout_s} s")
            time.sleep(0.05)

    def screenshot(self, path: Path, *, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        data = self.send("Page.captureScreenshot", **params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def errors(self) -> list[str]:
        """Everything the page reported as an error, and any dialog it opened."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(f"console: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params.get('exceptionDetails')}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                found.append(f"log: {params['entry'].get('text')}")
            elif method == "Page.javascriptDialogOpening":
                found.append(f"dialog: {params.get('message')}")
        return found

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):
            self._call("Browser.close", None, {})
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
