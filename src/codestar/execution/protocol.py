"""Messages between the engine and its workers: length-prefixed JSON over pipes.

JSON rather than pickle, so that a compromised worker can at worst send wrong data,
never code, to the engine.

    >>> import io
    >>> buffer = io.BytesIO()
    >>> write_message(buffer, {"ready": True})
    >>> _ = buffer.seek(0)
    >>> read_message(buffer)
    {'ready': True}
"""

from __future__ import annotations

import json
import struct
from typing import IO, Any

_HEADER = struct.Struct("!I")
MAX_MESSAGE = 1 << 31


def write_message(stream: IO[bytes], message: dict[str, Any]) -> None:
    data = json.dumps(message, separators=(",", ":")).encode()
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    chunks = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_message(stream: IO[bytes]) -> dict[str, Any] | None:
    """The next message, or None at end of stream."""
    header = _read_exactly(stream, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > MAX_MESSAGE:
        raise ValueError(f"message of {size} bytes is too large")
    data = _read_exactly(stream, size)
    if data is None:
        return None
    message = json.loads(data)
    if not isinstance(message, dict):
        raise ValueError("a message must be a JSON object")
    return message
