"""The TWS socket API's framing: a 4-byte big-endian length, then NUL-terminated text fields.

The connection opens with b"API\\0" and a framed "v<min>..<max>" (the client's version range); the server
answers with a framed [server version, connection time] and from then on every message is framed.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from decimal import Decimal

Field = str | int | float | Decimal | bool | None
HANDSHAKE_PREFIX = b"API\x00"


def encode(fields: Iterable[Field]) -> bytes:
    """One framed message."""
    body = "".join(_text(f) + "\0" for f in fields).encode()
    return struct.pack(">I", len(body)) + body


def _text(value: Field) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


class FrameReader:
    """Splits a byte stream into messages (lists of fields); malformed frames raise ValueError."""

    MAX_FRAME = 16 * 1024 * 1024

    def __init__(self) -> None:
        self._buffer = b""
        self.handshake_done = False

    def feed(self, data: bytes) -> list[list[str]]:
        self._buffer += data
        messages: list[list[str]] = []
        if not self.handshake_done:
            if len(self._buffer) < len(HANDSHAKE_PREFIX):
                return messages
            if not self._buffer.startswith(HANDSHAKE_PREFIX):
                raise ValueError(f"not the TWS API: the connection opened with {self._buffer[:4]!r}")
            self._buffer = self._buffer[len(HANDSHAKE_PREFIX) :]
            self.handshake_done = True
        while len(self._buffer) >= 4:
            (size,) = struct.unpack(">I", self._buffer[:4])
            if size > self.MAX_FRAME:
                raise ValueError(f"frame of {size} bytes is over the {self.MAX_FRAME} limit")
            if len(self._buffer) < 4 + size:
                break
            text = self._buffer[4 : 4 + size].decode(errors="backslashreplace")
            self._buffer = self._buffer[4 + size :]
            fields = text.split("\0")
            if fields and fields[-1] == "":
                fields.pop()
            messages.append(fields)
        return messages


def version_range(fields: list[str]) -> tuple[int, int]:
    """The client's "v157..176[ options]" version range."""
    text = fields[0].split(" ")[0] if fields else ""
    if not text.startswith("v") or ".." not in text:
        raise ValueError(f"bad API version range {text!r}")
    low, high = text[1:].split("..", 1)
    return int(low), int(high)
