"""Every IB request bounded in time: a gateway that reads a request and never answers must not hang the host.

IB answers a request with its data and an "end" message; a gateway that is overloaded, half-restarted or
wedged may send neither, and the client library waits forever. Each request kind has its own limit in
`IbConfig`; read-only queries are asked again (safe: asking twice changes nothing at IB), and after the
last attempt the caller gets an `IbRequestTimeout` naming the request, which the session treats as any other
failure (while trading: flatten and halt, saying why).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class IbRequestTimeout(TimeoutError):
    """IB did not answer a request in time, however often it was asked."""

    def __init__(self, request: str, api_call: str, timeout_s: float, attempts: int) -> None:
        self.request, self.api_call = request, api_call
        super().__init__(
            f"IB did not answer the {request} request ({api_call}) within {timeout_s:g} s, "
            f"{attempts} attempt(s): the gateway is up but not answering; restart IB Gateway if it lasts"
        )


async def bounded[T](
    ask: Callable[[], Awaitable[T]], request: str, api_call: str, timeout_s: float, attempts: int = 1
) -> T:
    """`ask()`'s answer, at most `timeout_s` per attempt; `attempts` > 1 only for read-only queries."""
    for attempt in range(1, attempts + 1):
        try:
            return await asyncio.wait_for(ask(), timeout_s)
        except TimeoutError:
            log.warning(
                "IB did not answer the %s request (%s) within %gs (attempt %d of %d)",
                request, api_call, timeout_s, attempt, attempts,
            )  # fmt: skip
    raise IbRequestTimeout(request, api_call, timeout_s, attempts)
