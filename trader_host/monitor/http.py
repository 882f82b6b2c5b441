"""Just enough HTTP/1.1 for a read-only page: parse one request head, write one response head.

The monitor serves a few GET routes and one event stream, so it speaks the protocol itself on asyncio
streams instead of pulling in a web framework. A malformed head is a BadRequest naming what was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

MAX_HEAD_BYTES = 16 * 1024


class BadRequest(ValueError):
    """The request head could not be understood (the reason goes back in the 400)."""


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased


def parse_head(head: bytes) -> Request:
    """Parse a request line and its headers (the bytes up to and including the blank line)."""
    lines = head.decode("latin-1").split("\r\n")  # latin-1 maps every byte: nothing to fail on
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(f"malformed request line {lines[0][:80]!r}")
    method, target, _version = parts
    if not target.startswith("/"):
        raise BadRequest(f"target must be a path, got {target[:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest(f"malformed header line {line[:80]!r}")
        headers[name.lower()] = value.strip()
    url = urlsplit(target)
    return Request(method, url.path, dict(parse_qsl(url.query)), headers)


def response_head(
    status: HTTPStatus, content_type: str, length: int | None, extra: dict[str, str] | None = None
) -> bytes:
    """A response's status line and headers; `length` None for a stream (the connection then stays open)."""
    lines = [
        f"HTTP/1.1 {status.value} {status.phrase}",
        f"Content-Type: {content_type}",
        "X-Content-Type-Options: nosniff",
        "Referrer-Policy: no-referrer",
    ]
    if length is not None:
        lines += [f"Content-Length: {length}", "Connection: close"]
    for name, value in (extra or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def plain(status: HTTPStatus, message: str, extra: dict[str, str] | None = None) -> bytes:
    """A whole short text response."""
    body = (message + "\n").encode()
    return response_head(status, "text/plain; charset=utf-8", len(body), extra) + body
