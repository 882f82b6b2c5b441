"""Who may read the monitor: anyone on this machine when it listens on loopback; otherwise a token holder.

The token comes from the environment (REGIME_TRADER_MONITOR_TOKEN, e.g. filled from SSM or Secrets Manager
by the host's unit file) or is generated at start and printed with the address; it is never in code or
config. A request shows it as `?token=`, as `Authorization: Bearer`, or in the cookie the page sets.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
from collections.abc import Mapping
from urllib.parse import quote

TOKEN_ENV = "REGIME_TRADER_MONITOR_TOKEN"
COOKIE = "monitor_token"
MIN_TOKEN_CHARS = 16
TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~-]+")  # safe in a URL and a cookie as they are


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name we do not resolve here: treat it as reachable from elsewhere


class MonitorAccess:
    """The token check; `token` None means open (loopback only)."""

    def __init__(self, token: str | None, *, generated: bool = False) -> None:
        self.token = token
        self.generated = generated  # made here: printing it is the only way the operator learns it

    @classmethod
    def for_host(cls, host: str, env: Mapping[str, str]) -> MonitorAccess:
        """Open on loopback; elsewhere the environment's token, or a new random one."""
        if is_loopback(host):
            return cls(None)
        token = env.get(TOKEN_ENV, "").strip()
        if token and (len(token) < MIN_TOKEN_CHARS or not TOKEN_CHARS.fullmatch(token)):
            raise ValueError(
                f"{TOKEN_ENV} must be at least {MIN_TOKEN_CHARS} characters of A-Z a-z 0-9 . _ ~ -"
            )
        return cls(token) if token else cls(secrets.token_urlsafe(24), generated=True)

    @property
    def required(self) -> bool:
        return self.token is not None

    def query(self) -> str:
        """The query string that opens the page (empty when no token is needed)."""
        return "" if self.token is None else f"?token={quote(self.token)}"

    def shown_query(self) -> str:
        """The query string as printed (the console goes to the host's log): a generated token in full, the
        operator's own masked by the variable that holds it."""
        if self.token is None or self.generated:
            return self.query()
        return f"?token=${TOKEN_ENV}"

    def allows(self, query: Mapping[str, str], headers: Mapping[str, str]) -> bool:
        """True when no token is needed or the request carries the right one (compared in constant time)."""
        if self.token is None:
            return True
        offered = [query.get("token", "")]
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            offered.append(auth[7:].strip())
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE:
                offered.append(value)
        expected = self.token.encode()
        return any(hmac.compare_digest(o.encode(), expected) for o in offered if o)

    def host_allowed(self, host_header: str) -> bool:
        """Open (loopback) monitors answer only requests addressed to a loopback name: a web page the
        operator visits cannot reach it through a DNS name rebound to 127.0.0.1."""
        if self.token is not None:
            return True
        name = host_header.rsplit(":", 1)[0] if not host_header.endswith("]") else host_header
        return is_loopback(name.strip("[]"))

    def cookie(self) -> str | None:
        """The Set-Cookie value that lets the page's script and event stream in without the query."""
        if self.token is None:
            return None
        return f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
