"""The access policy (open on loopback, a token elsewhere) and the request-head parser."""

from __future__ import annotations

import pytest

from trader_host.monitor.access import COOKIE, TOKEN_ENV, MonitorAccess, is_loopback
from trader_host.monitor.http import BadRequest, parse_head

TOKEN = "a-long-enough-token-123"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.3.2.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False),
     ("::", False), ("10.0.0.5", False), ("monitor.example", False)],
)  # fmt: skip
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_loopback_is_open_and_any_other_address_needs_a_token() -> None:
    assert not MonitorAccess.for_host("127.0.0.1", {TOKEN_ENV: TOKEN}).required
    given = MonitorAccess.for_host("0.0.0.0", {TOKEN_ENV: TOKEN})
    assert given.token == TOKEN and given.query() == f"?token={TOKEN}"
    made, other = MonitorAccess.for_host("0.0.0.0", {}), MonitorAccess.for_host("0.0.0.0", {})
    assert made.token and other.token and made.token != other.token and len(made.token) >= 24


@pytest.mark.parametrize("bad", ["short", "has;semicolon-and-is-long-enough", "spaces are not allowed here"])
def test_a_bad_token_from_the_environment_is_refused_by_name(bad: str) -> None:
    with pytest.raises(ValueError, match=TOKEN_ENV):
        MonitorAccess.for_host("0.0.0.0", {TOKEN_ENV: bad})


def test_the_token_is_accepted_from_the_query_a_bearer_header_or_the_cookie() -> None:
    access = MonitorAccess(TOKEN)
    assert access.allows({"token": TOKEN}, {})
    assert access.allows({}, {"authorization": f"Bearer {TOKEN}"})
    assert access.allows({}, {"cookie": f"other=1; {COOKIE}={TOKEN}"})
    assert not access.allows({}, {})
    assert not access.allows({"token": TOKEN[:-1]}, {"authorization": "Bearer nope", "cookie": f"{COOKIE}="})
    assert MonitorAccess(None).allows({}, {}) and MonitorAccess(None).cookie() is None


def test_an_open_monitor_answers_only_requests_addressed_to_loopback() -> None:
    open_ = MonitorAccess(None)
    for host in ("127.0.0.1:8750", "localhost:8750", "[::1]:8750", "localhost", "[::1]"):
        assert open_.host_allowed(host), host
    for host in ("evil.example:8750", "10.0.0.5:8750", "", "evil.example"):
        assert not open_.host_allowed(host), host
    assert MonitorAccess(TOKEN).host_allowed("monitor.example:8750")  # the token guards that one


def test_a_request_head_is_parsed() -> None:
    request = parse_head(b"GET /events?token=abc&x=1 HTTP/1.1\r\nHost: h\r\nCookie: a=b\r\n\r\n")
    assert (request.method, request.path) == ("GET", "/events")
    assert request.query == {"token": "abc", "x": "1"} and request.headers == {"host": "h", "cookie": "a=b"}


@pytest.mark.parametrize(
    ("head", "why"),
    [(b"GET /\r\n\r\n", "request line"), (b"GET http://x/ HTTP/1.1\r\n\r\n", "must be a path"),
     (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", "header line"), (b"GET / SPDY/3\r\n\r\n", "request line")],
)  # fmt: skip
def test_a_malformed_head_says_what_was_wrong(head: bytes, why: str) -> None:
    with pytest.raises(BadRequest, match=why):
        parse_head(head)
