"""MonitorServer: the read-only page and its event stream, on the trading host's own event loop.

Routes (GET or HEAD only): `/` the page, `/monitor.js` its script, `/plotly.min.js` the plotly.js bundled
with the plotly package (the page needs no network), `/snapshot` the current frame as JSON, `/events` the
server-sent event stream (a `snapshot`, then an `update` per frame). A request the access policy refuses
gets 401 before any route is looked at.

The session never waits for the server: it only appends to the tap. One broadcaster task turns what is new
into one encoded frame, at most every `frame_interval_s` (bursts coalesce), and writes it to every browser
without awaiting; a browser that has more than `max_client_buffer` bytes unsent is slow and is dropped (it
reconnects and gets a fresh snapshot). A failure in the server is logged and never reaches the session.

Slow readers cost bounded memory: at most MAX_CONNECTIONS connections at once (more are answered 503 and
closed), files go out in CHUNK_BYTES slices of the one copy in memory (no per-request copy), each awaited,
and at most MAX_FILE_TRANSFERS of them are in flight at once (MAX_FILE_QUEUE others wait their turn, or get
503 after WRITE_TIMEOUT_S; beyond that, 503 at once, so a flood frees its connections and the page and
snapshot still answer). 150 clients that ask for the 3.6 MB plotly bundle and never read took the host
from 165 to 872 MB before (`python -m bench monitor_slow_readers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from http import HTTPStatus
from importlib import resources
from typing import Any

from trader_host.monitor.access import MonitorAccess
from trader_host.monitor.http import MAX_HEAD_BYTES, BadRequest, Request, parse_head, plain, response_head
from trader_host.monitor.tap import MonitorTap
from trader_host.monitor.view import Cursor, MonitorView

log = logging.getLogger(__name__)
FRAME_INTERVAL_S = 0.05  # at most 20 frames a second: a burst of ticks becomes one frame
IDLE_FRAME_S = 1.0  # with no event, a state-only frame this often (ages move on; dead browsers show)
MAX_CLIENT_BUFFER = 1 << 20  # bytes unsent to one browser before it is dropped as slow
KERNEL_SEND_BUFFER = 256 * 1024  # per connection: a stalled browser cannot park megabytes in the kernel
HEAD_TIMEOUT_S = 10.0
WRITE_TIMEOUT_S = 30.0
MAX_CONNECTIONS = 64  # a browser opens about 6; more is a flood
MAX_FILE_TRANSFERS = 4  # files (the page, its scripts) being sent at once
MAX_FILE_QUEUE = 16  # requests waiting for a transfer; more are answered 503 at once
CHUNK_BYTES = 64 * 1024
STATIC = {
    "/": ("monitor.html", "text/html; charset=utf-8"),
    "/monitor.js": ("monitor.js", "text/javascript; charset=utf-8"),
}


class MonitorUnavailable(RuntimeError):
    """The monitor cannot serve (its port is taken, plotly is missing); the host trades on without it."""


def plotly_bundle() -> bytes:
    """The plotly.js the plotly package ships (no CDN: the host may have no internet)."""
    try:
        return (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise MonitorUnavailable(f"plotly.js not found ({exc}): install the plotly package") from None


def event_bytes(name: str, frame: dict[str, Any]) -> bytes:
    """One server-sent event; JSON without newlines fits one `data:` line."""
    data = json.dumps(frame, separators=(",", ":"), allow_nan=False)
    return f"event: {name}\ndata: {data}\n\n".encode()


class MonitorServer:
    """Serves one session's monitor; `start` binds, `close` stops and drops every browser."""

    def __init__(
        self,
        view: MonitorView,
        tap: MonitorTap,
        access: MonitorAccess,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        frame_interval_s: float = FRAME_INTERVAL_S,
        max_client_buffer: int = MAX_CLIENT_BUFFER,
    ) -> None:
        self.view = view
        self.tap = tap
        self.access = access
        self.host = host
        self.port = port
        self.frame_interval_s = frame_interval_s
        self.max_client_buffer = max_client_buffer
        self.clients: set[asyncio.StreamWriter] = set()
        self._watched = asyncio.Event()  # set while a browser is connected: idle, the broadcaster sleeps
        self.frames = 0
        self.dropped = 0
        self.errors = 0
        self._cursor = Cursor()
        self.connections = 0
        self.refused = 0
        self._transfers = asyncio.Semaphore(MAX_FILE_TRANSFERS)
        self._queued = 0
        self._assets: dict[str, bytes] = {}
        self._server: asyncio.Server | None = None
        self._broadcaster: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The address to open (with the token when one is needed)."""
        return self._address() + self.access.query()

    @property
    def shown_url(self) -> str:
        """The address as printed: an operator's own token masked (see MonitorAccess.shown_query)."""
        return self._address() + self.access.shown_query()

    def _address(self) -> str:
        host = socket.gethostname() if self.host in ("0.0.0.0", "::", "") else self.host  # every address
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/"

    async def start(self) -> None:
        """Load the assets, bind and start the broadcaster; MonitorUnavailable when that is impossible."""
        static = resources.files("trader_host.monitor") / "static"
        for route, (name, _) in STATIC.items():
            self._assets[route] = (static / name).read_bytes()
        self._assets["/plotly.min.js"] = plotly_bundle()
        try:
            self._server = await asyncio.start_server(
                self._connection, self.host, self.port, limit=MAX_HEAD_BYTES
            )
        except OSError as exc:
            raise MonitorUnavailable(f"cannot listen on {self.host}:{self.port}: {exc}") from None
        self.port = self._server.sockets[0].getsockname()[1]
        self.view.skip(self._cursor)
        self._broadcaster = asyncio.create_task(self._broadcast(), name="monitor-broadcast")
        log.info("monitor listening on %s:%d (token %s)", self.host, self.port, self.access.required)

    async def close(self) -> None:
        if self._broadcaster is not None:
            self._broadcaster.cancel()
            await asyncio.gather(self._broadcaster, return_exceptions=True)
        for writer in list(self.clients):
            writer.transport.abort()
        self.clients.clear()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    # -- the stream ------------------------------------------------------------------------------------------
    async def _broadcast(self) -> None:
        changed = self.tap.changed
        while True:
            if not self.clients:
                self._watched.clear()
                await self._watched.wait()  # nobody watching: no wake-up per event
            with contextlib.suppress(TimeoutError):  # idle: a state-only frame
                await asyncio.wait_for(changed.wait(), IDLE_FRAME_S)
            changed.clear()
            try:
                self._flush()
            except Exception:  # a view bug must not end the stream, nor ever reach the session
                self.errors += 1
                log.exception("monitor: frame failed (the page keeps its last state)")
            await asyncio.sleep(self.frame_interval_s)

    def _flush(self) -> None:
        """Send what is new to every browser (or just move the cursor when nobody watches)."""
        if not self.clients:
            self.view.skip(self._cursor)
            return
        frame = event_bytes("update", self.view.update(self._cursor))
        self.frames += 1
        for writer in list(self.clients):
            self._send(writer, frame)

    def _send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        transport = writer.transport
        if transport.is_closing():
            self.clients.discard(writer)
            return
        unsent = transport.get_write_buffer_size()
        if unsent > self.max_client_buffer:
            self.dropped += 1
            self.clients.discard(writer)
            peer = writer.get_extra_info("peername")
            log.warning("monitor: dropping slow browser %s (%d bytes unsent)", peer, unsent)
            transport.abort()
            return
        writer.write(data)

    async def _stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(response_head(HTTPStatus.OK, "text/event-stream", None, {"Cache-Control": "no-store"}))
        # The others first get what is pending, so this snapshot and everyone's next update never overlap.
        self._flush()
        snapshot, _ = self.view.snapshot()
        writer.write(event_bytes("snapshot", snapshot))
        self.clients.add(writer)
        self._watched.set()
        try:
            while await reader.read(4096):  # a browser sends nothing more; this ends when it goes away
                pass
        except ConnectionError:
            pass
        finally:
            self.clients.discard(writer)

    # -- one connection --------------------------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_SEND_BUFFER)
        if self.connections >= MAX_CONNECTIONS:
            self.refused += 1
            writer.write(plain(HTTPStatus.SERVICE_UNAVAILABLE, "too many connections", {"Retry-After": "5"}))
            writer.close()
            return
        self.connections += 1
        try:
            await self._serve(reader, writer)
        except (ConnectionError, TimeoutError):
            pass  # the browser went away
        except Exception:
            self.errors += 1
            log.exception("monitor: request failed")
        finally:
            self.connections -= 1
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
            request = parse_head(head)
        except asyncio.IncompleteReadError:
            return
        except asyncio.LimitOverrunError:
            await self._reply(writer, plain(HTTPStatus.BAD_REQUEST, "request head too large"))
            return
        except BadRequest as exc:
            await self._reply(writer, plain(HTTPStatus.BAD_REQUEST, str(exc)))
            return
        if request.method not in ("GET", "HEAD"):
            allow = {"Allow": "GET, HEAD"}
            await self._reply(writer, plain(HTTPStatus.METHOD_NOT_ALLOWED, "read-only", allow))
            return
        if not self.access.host_allowed(request.headers.get("host", "")):
            await self._reply(writer, plain(HTTPStatus.FORBIDDEN, "this monitor answers loopback names only"))
            return
        if not self.access.allows(request.query, request.headers):
            auth = {"WWW-Authenticate": 'Bearer realm="regime-trader monitor"'}
            await self._reply(writer, plain(HTTPStatus.UNAUTHORIZED, "token required", auth))
            return
        if request.path == "/events":
            await self._stream(reader, writer)
            return
        head, body = self._resource(request)
        if request.method == "HEAD" or not body:
            await self._reply(writer, head)
        elif len(body) <= CHUNK_BYTES:
            await self._reply(writer, head + body)
        else:
            await self._send_file(writer, head, body)

    def _resource(self, request: Request) -> tuple[bytes, bytes]:
        """The response's head and body (a body in memory already is not copied)."""
        path = request.path
        if path in STATIC:
            extra = {"Cache-Control": "no-store"}
            cookie = self.access.cookie()
            if path == "/" and cookie is not None:
                extra["Set-Cookie"] = cookie
            body = self._assets[path]
            return response_head(HTTPStatus.OK, STATIC[path][1], len(body), extra), body
        if path == "/plotly.min.js":
            body = self._assets[path]
            extra = {"Cache-Control": "private, max-age=86400"}
            return response_head(HTTPStatus.OK, "text/javascript; charset=utf-8", len(body), extra), body
        if path == "/snapshot":
            body = json.dumps(self.view.snapshot()[0], allow_nan=False).encode()
            extra = {"Cache-Control": "no-store"}
            return response_head(HTTPStatus.OK, "application/json", len(body), extra), body
        if path == "/favicon.ico":
            return response_head(HTTPStatus.NO_CONTENT, "image/x-icon", 0), b""
        return plain(HTTPStatus.NOT_FOUND, f"no such page: {path}"), b""

    async def _send_file(self, writer: asyncio.StreamWriter, head: bytes, body: bytes) -> None:
        """A large body in slices of the one copy in memory, each drained, MAX_FILE_TRANSFERS at a time."""
        busy = plain(HTTPStatus.SERVICE_UNAVAILABLE, "busy", {"Retry-After": "5"})
        if self._queued >= MAX_FILE_QUEUE:  # a flood: answered at once, its connection freed
            self.refused += 1
            await self._reply(writer, busy)
            return
        self._queued += 1
        try:
            await asyncio.wait_for(self._transfers.acquire(), WRITE_TIMEOUT_S)
        except TimeoutError:
            self.refused += 1
            await self._reply(writer, busy)
            return
        finally:
            self._queued -= 1
        try:
            view = memoryview(body)
            writer.write(head)
            for start in range(0, len(view), CHUNK_BYTES):
                writer.write(view[start : start + CHUNK_BYTES])
                await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT_S)
        finally:
            self._transfers.release()

    async def _reply(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(data)
        await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT_S)
