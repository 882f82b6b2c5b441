"""A TCP relay: the local cloud's loopback endpoint, reachable from Docker's containers for a while.

The local cloud's moto server listens on 127.0.0.1 (nothing else on the network should reach it); SAM's
containers sit on Docker's bridge, where 127.0.0.1 is the container itself. For the length of an
invocation, the relay listens on the bridge's gateway address (the host's side of the bridge, reachable
from the containers and not from outside the host) and copies bytes both ways to the endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until end of stream, then pass the end on (the other direction may still be talking)."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()


def _handler(
    target_host: str, target_port: int
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            reader, writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_writer.close()  # the endpoint is gone: the client sees its connection refused
            return
        try:
            await asyncio.gather(_copy(client_reader, writer), _copy(reader, client_writer))
        finally:
            for w in (writer, client_writer):
                w.close()
                with contextlib.suppress(ConnectionError, OSError):
                    await w.wait_closed()

    return handle


@contextlib.asynccontextmanager
async def relay(
    listen_host: str, target_host: str, target_port: int, prefer_port: int = 0
) -> AsyncIterator[int]:
    """Listen on `listen_host` (`prefer_port` if free, else any), relay to the target; yields the port."""
    handle = _handler(target_host, target_port)
    try:
        server = await asyncio.start_server(handle, listen_host, prefer_port)
    except OSError:
        server = await asyncio.start_server(handle, listen_host, 0)
    async with server:
        yield int(server.sockets[0].getsockname()[1])
