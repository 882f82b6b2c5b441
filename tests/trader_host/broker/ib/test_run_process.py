"""`regime-trader run --broker ib` as a process: it obeys signals and stops on what cannot heal."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "layers" / "regime"), str(REPO)])}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def host(port: int, state: Path, *extra: str) -> Iterator[subprocess.Popen[str]]:
    argv = [sys.executable, "-m", "trader_host.cli", "run", "--broker", "ib", "--port", str(port),
            "--no-cloud", "--regime", "range", "--monitor-port", "0", "--state-dir", str(state),
            *extra]  # fmt: skip
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV, cwd=REPO
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def wait_for_line(proc: subprocess.Popen[str], text: str, timeout: float) -> str:
    """The output up to the first line holding `text` (fails after `timeout` seconds)."""
    assert proc.stdout is not None
    seen: list[str] = []
    end = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < end:
            if not sel.select(max(0.0, end - time.monotonic())):
                break
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if text in line:
                return "".join(seen)
    raise AssertionError(f"no line with {text!r} in {timeout}s:\n{''.join(seen)[-3000:]}")


@pytest.mark.slow
def test_sigterm_while_connecting_to_a_port_where_nothing_listens_ends_the_host(tmp_path: Path) -> None:
    with host(free_port(), tmp_path) as proc:
        wait_for_line(proc, "connect failed", 60)  # in the connect loop's backoff
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    assert "stopped while connecting to the broker: nothing was traded" in out, out[-3000:]


@contextmanager
def stub_gateway(answer: bytes | None) -> Iterator[int]:
    """A port that accepts the API handshake and answers it with `answer` (None: says nothing at all)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    done = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            held.append(conn)
            conn.settimeout(5)
            try:
                conn.recv(4096)  # b"API\0" and the client's version range
                if answer is not None:
                    conn.sendall(answer)
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        done.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


def frame(*fields: str) -> bytes:
    body = "".join(f"{f}\0" for f in fields).encode()
    return struct.pack(">I", len(body)) + body


@pytest.mark.slow
def test_a_gateway_too_old_for_the_client_stops_the_host_naming_the_version(tmp_path: Path) -> None:
    with stub_gateway(frame("100", "20260107 12:00:00 UTC")) as port, host(port, tmp_path) as proc:
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode not in (0, None), out[-3000:]
    assert "API server version 100" in out and "needs at least 157" in out, out[-3000:]
    assert "Traceback" not in out


@pytest.mark.slow
def test_a_port_that_never_answers_the_handshake_says_what_to_check(tmp_path: Path) -> None:
    with stub_gateway(None) as port, host(port, tmp_path) as proc:
        out = wait_for_line(proc, "no answer to the API handshake", 60)
        proc.send_signal(signal.SIGTERM)
        out += proc.communicate(timeout=15)[0]
    for cause in ("API is enabled", "Trusted IPs", "client id 1"):
        assert cause in out, out[-3000:]
