"""`regime-trader run --broker ib` as a process: it obeys signals and stops on what cannot heal."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
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
            "--no-cloud", "--regime", "range", "--state-dir", str(state), *extra]  # fmt: skip
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
