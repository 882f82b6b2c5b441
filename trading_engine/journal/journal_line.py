"""One journal or spool line: `<crc32 as 8 hex digits> <JSON document>\n`.

The checksum catches what JSON parsing alone would not: a torn write that still parses, a flipped byte.
A line that fails either check is corrupt; its reader quarantines it, never forwards it.
"""

from __future__ import annotations

import zlib


class CorruptLine(ValueError):
    """A line that cannot be trusted; the message says why."""


def encode_line(document: str) -> bytes:
    """The bytes of one line holding `document` (a JSON text without newlines)."""
    body = document.replace("\n", " ").encode("utf-8")
    return b"%08x %s\n" % (zlib.crc32(body), body)


def decode_line(raw: bytes) -> str:
    """The JSON text of one line (with or without its newline); raises CorruptLine naming the fault."""
    line = raw.rstrip(b"\n")
    if len(line) < 10 or line[8:9] != b" ":
        raise CorruptLine(f"no checksum header ({len(line)} bytes)")
    try:
        expected = int(line[:8], 16)
    except ValueError:
        raise CorruptLine("checksum header is not hexadecimal") from None
    body = line[9:]
    if zlib.crc32(body) != expected:
        raise CorruptLine("checksum mismatch (torn or altered line)")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptLine(f"not UTF-8 at byte {exc.start}") from None
