"""FlakyEndpoint: a real HTTP proxy in front of the local AWS endpoint that can be slow or down on demand.

Not a fake of boto3 or of our code: the adapters talk HTTP to it exactly as to AWS, and it forwards every
request to the moto server, after `delay_s`, or drops the connection while `down` is set.
"""

from __future__ import annotations

import contextlib
import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit


class FlakyEndpoint:
    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port
        self.delay_s = 0.0
        self.down = False
        self.calls = 0
        proxy = self

        class Forward(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # silence the per-request log
                pass

            def _forward(self) -> None:
                with contextlib.suppress(ConnectionError, TimeoutError):
                    self._relay()  # raises when the client gave up first (its read timeout)

            def _relay(self) -> None:
                proxy.calls += 1
                if proxy.down:
                    self.close_connection = True
                    self.connection.close()  # as an unreachable endpoint: no answer at all
                    return
                if proxy.delay_s:
                    time.sleep(proxy.delay_s)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                conn = http.client.HTTPConnection(proxy.host, proxy.port, timeout=30)
                conn.request(self.command, self.path, body, dict(self.headers))
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward  # noqa: N815 - http.server's names

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FlakyEndpoint:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
