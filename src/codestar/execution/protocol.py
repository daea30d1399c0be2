"""Frames between the engine and its workers: a JSON header plus raw byte blobs.

JSON rather than pickle, so that a compromised worker can at worst send wrong data,
never code, to the engine. Bulk data (test inputs, expected outputs) travels as raw
blobs after the header, so megabytes of input cost a copy, not a JSON encoding.

    >>> import io
    >>> buffer = io.BytesIO()
    >>> write_frame(buffer, {"ready": True}, [b"abc"])
    >>> _ = buffer.seek(0)
    >>> read_frame(buffer)
    ({'ready': True}, [b'abc'])
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import IO, Any

_HEADER = struct.Struct("!II")
_BLOB = struct.Struct("!Q")
MAX_HEADER = 1 << 31


def write_frame(stream: IO[bytes], message: dict[str, Any], blobs: Sequence[bytes] = ()) -> None:
    data = json.dumps(message, separators=(",", ":")).encode()
    stream.write(_HEADER.pack(len(data), len(blobs)))
    stream.write(data)
    for blob in blobs:
        stream.write(_BLOB.pack(len(blob)))
        stream.write(blob)
    stream.flush()


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    data = stream.read(size)
    if data is None or len(data) < size:  # buffered streams return short only at EOF
        return None
    return data


def read_frame(stream: IO[bytes]) -> tuple[dict[str, Any], list[bytes]] | None:
    """The next frame, or None at end of stream."""
    header = _read_exactly(stream, _HEADER.size)
    if header is None:
        return None
    size, count = _HEADER.unpack(header)
    if size > MAX_HEADER:
        raise ValueError(f"frame header of {size} bytes is too large")
    data = _read_exactly(stream, size)
    if data is None:
        return None
    message = json.loads(data)
    if not isinstance(message, dict):
        raise ValueError("a frame header must be a JSON object")
    blobs = []
    for _ in range(count):
        length = _read_exactly(stream, _BLOB.size)
        if length is None:
            return None
        blob = _read_exactly(stream, _BLOB.unpack(length)[0])
        if blob is None:
            return None
        blobs.append(blob)
    return message, blobs
