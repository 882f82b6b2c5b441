"""A headless Debian chromium driven over the Chrome DevTools protocol (asyncio, one page).

Started with the flags the team uses for browser tests, `--remote-debugging-port=0` and a fresh profile;
the port is read from the profile's DevToolsActivePort. Console errors, uncaught exceptions and error log
entries are collected in `errors`. Used by bench/monitor.py and the monitor's tests.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-port=0",
)
START_TIMEOUT_S = 30.0


class DevToolsError(RuntimeError):
    """The browser answered a command with an error, or did not start."""


def chromium_path() -> str:
    path = shutil.which("chromium")
    # No skip: `make test` installs Debian's chromium when it is missing (the Makefile's `browser` target).
    assert path is not None, "Debian package chromium not installed: run `make browser` (root) first"
    return path


class Chromium:
    """`async with Chromium() as browser:` a page to navigate, evaluate in and screenshot."""

    def __init__(self, width: int = 1400, height: int = 1200) -> None:
        self.width, self.height = width, height
        self.errors: list[str] = []
        self.console: list[str] = []
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._profile = Path(tempfile.mkdtemp(prefix="monitor-chromium-"))
        self._proc: asyncio.subprocess.Process | None = None
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._session = ""

    async def __aenter__(self) -> Chromium:
        self._proc = await asyncio.create_subprocess_exec(
            chromium_path(),
            *FLAGS,
            f"--user-data-dir={self._profile}",
            f"--window-size={self.width},{self.height}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        active = self._profile / "DevToolsActivePort"
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (active.exists() and len(active.read_text().split()) >= 2):
            if self._proc.returncode is not None or time.monotonic() > deadline:
                raise DevToolsError(f"chromium did not open its DevTools port (exit {self._proc.returncode})")
            await asyncio.sleep(0.05)
        port, path = active.read_text().split()[:2]
        self._ws = await connect(f"ws://127.0.0.1:{port}{path}", max_size=None)
        self._reader = asyncio.create_task(self._read())
        target = await self.send("Target.createTarget", {"url": "about:blank"}, browser=True)
        attached = await self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, browser=True
        )
        self._session = attached["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            await self.send(f"{domain}.enable")
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
        )
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._proc is not None and self._proc.returncode is None:
            self._proc.terminate()
            try:
                await asyncio.wait_for(self._proc.wait(), 10)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
        shutil.rmtree(self._profile, ignore_errors=True)

    async def send(self, method: str, params: dict[str, Any] | None = None, *, browser: bool = False) -> Any:
        """One command; its result, or DevToolsError."""
        assert self._ws is not None
        n = next(self._ids)
        message: dict[str, Any] = {"id": n, "method": method, "params": params or {}}
        if not browser:
            message["sessionId"] = self._session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[n] = future
        await self._ws.send(json.dumps(message))
        reply = await asyncio.wait_for(future, 60)
        if "error" in reply:
            raise DevToolsError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def _read(self) -> None:
        assert self._ws is not None
        async for raw in self._ws:
            message = json.loads(raw)
            if "id" in message:
                future = self._pending.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message)
            else:
                self._event(message.get("method", ""), message.get("params", {}))

    def _event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.console.append(f"{params.get('type')}: {text}")
            if params.get("type") in ("error", "assert"):
                self.errors.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            described = details.get("exception", {}).get("description", details.get("text", ""))
            self.errors.append(f"uncaught: {described}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.errors.append(f"log: {entry.get('text')} {entry.get('url', '')}")

    async def navigate(self, url: str) -> None:
        loaded = await self.send("Page.navigate", {"url": url})
        if loaded.get("errorText"):
            raise DevToolsError(f"navigate {url}: {loaded['errorText']}")

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = await self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}
        )
        if "exceptionDetails" in result:
            raise DevToolsError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, within: float = 30.0, poll: float = 0.05) -> Any:
        """Poll `expression` until it is truthy; its value. Fails with the last value after `within` s."""
        deadline = time.monotonic() + within
        value = None
        while time.monotonic() < deadline:
            with contextlib.suppress(DevToolsError):  # the page may be between documents
                value = await self.evaluate(expression)
                if value:
                    return value
            await asyncio.sleep(poll)
        raise AssertionError(f"timed out after {within}s waiting for {expression!r} (last: {value!r})")

    async def screenshot(self) -> bytes:
        """The page as a PNG."""
        shot = await self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        return base64.b64decode(shot["data"])
