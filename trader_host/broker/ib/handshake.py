"""The API handshake watched from outside the client: which server version answered, and what to check.

The client library refuses a gateway whose server version is too old with a misleading text ("must be
>= 972") and forgets the version it read; a port that accepts the connection and never answers times out
with no hint. This module keeps the version the gateway sent and words the errors an operator can act on:
an old gateway cannot heal by retrying (ServerVersionTooOld stops the host), a silent one may (a gateway
still starting), so its text says which causes to check while the connect loop goes on.
"""

from __future__ import annotations

import struct

from trader_host.broker.ib.setup_errors import ServerVersionTooOld


class HandshakeWatch:
    """Fed the socket's bytes of one connection attempt; remembers the server version it announced."""

    def __init__(self) -> None:
        self.server_version: int | None = None
        self.answered = False  # any byte at all came back
        self._buffer = b""

    def reset(self) -> None:
        """A new connection attempt."""
        self.server_version, self.answered, self._buffer = None, False, b""

    def feed(self, data: bytes) -> None:
        self.answered = True
        if self.server_version is not None:
            return
        self._buffer += data
        if len(self._buffer) < 4:
            return
        (size,) = struct.unpack(">I", self._buffer[:4])
        if len(self._buffer) < 4 + size:
            return
        fields = self._buffer[4 : 4 + size].decode(errors="replace").split("\0")
        if fields and fields[0].isdigit():
            self.server_version = int(fields[0])
        self._buffer = b""


def too_old(where: str, server_version: int | None, needed: int) -> ServerVersionTooOld:
    version = "an unknown version" if server_version is None else f"version {server_version}"
    return ServerVersionTooOld(
        f"IB {where} speaks API server {version}; this client needs at least {needed} "
        "(TWS / IB Gateway 10.x): update IB Gateway or TWS"
    )


def unanswered(where: str, client_id: int, timeout_s: float, answered: bool) -> str:
    """Why a connection was accepted but the API never became ready, and what to check."""
    what = "no answer to the API handshake" if not answered else "the API session's start was not finished"
    return (
        f"{what} from {where} within {timeout_s:g}s: check that the API is enabled (Configure > Settings > "
        "API > Enable ActiveX and Socket Clients), that this is the API port (4002 paper gateway, 7497 "
        f"paper TWS), that this machine is in Trusted IPs, and that no other client uses client id "
        f"{client_id}"
    )


def connect_error(
    why: str, where: str, client_id: int, timeout_s: float, watch: HandshakeWatch, needed: int
) -> ConnectionError:
    """The error a failed connection attempt stands for (`why`: the client library's text), worded for the
    operator; the connect loop retries all but a ServerVersionTooOld (an IbSetupError)."""
    if watch.server_version is not None and watch.server_version < needed:
        return too_old(where, watch.server_version, needed)
    if "TimeoutError" in why:
        return ConnectionError(unanswered(where, client_id, timeout_s, watch.answered))
    if "ConnectionRefusedError" in why:
        return ConnectionRefusedError(
            f"nothing listens on {where}: is IB Gateway / TWS running, and is this its API port?"
        )
    return ConnectionError(why)
