"""The relay that lets containers reach the loopback endpoint: bytes both ways, a busy port avoided."""

from __future__ import annotations

import asyncio
import socket

from devkit.local_cloud.relay import relay


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    request = await reader.readuntil(b"\r\n\r\n")
    body = request.split(b"\r\n", 1)[0] * 5000  # larger than one read: the relay must copy it whole
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    await writer.drain()
    writer.close()


async def _through_relay(prefer_port: int) -> tuple[int, bytes]:
    target = await asyncio.start_server(_answer, "127.0.0.1", 0)
    target_port = target.sockets[0].getsockname()[1]
    async with target, relay("127.0.0.1", "127.0.0.1", target_port, prefer_port=prefer_port) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /moto-api/ HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        response = await reader.read()
        writer.close()
    return port, response


def test_a_request_and_its_response_cross_the_relay_whole() -> None:
    port, response = asyncio.run(_through_relay(0))
    head, body = response.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK") and body == b"GET /moto-api/ HTTP/1.1" * 5000
    assert port > 0


def test_a_busy_preferred_port_gives_way_to_a_free_one() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        port, response = asyncio.run(_through_relay(taken))
    assert port != taken and response.startswith(b"HTTP/1.1 200 OK")
