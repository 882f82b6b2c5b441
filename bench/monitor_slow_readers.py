"""The monitor under slow readers: the host's memory while 150 loopback clients ask for the 3.6 MB script
bundle (`/plotly.min.js`) and never read a byte of the answer (the red team took a host from 165 to 872 MB
this way, where the EC2 unit allows 700).

A real `regime-trader run` process (sim broker, real-pace clock x60, no cloud) with its monitor on a free
port; its resident memory (VmRSS, from /proc) before the clients connect, then the peak over 15 s while they
hold their connections open unread, and whether the page still answers a normal reader meanwhile.

Run: `.venv/bin/python -m bench monitor_slow_readers` (about 40 s); figures in
bench/results/monitor_slow_readers.json.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.results import write_results

REPO = Path(__file__).resolve().parents[1]
CLIENTS = 150
HOLD_S = 15.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """The process's resident memory now (MB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def _wait_for(port: int, proc: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"host exited: {proc.communicate()[0][-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/snapshot", timeout=2) as r:
                r.read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the monitor did not answer")


def measure(clients: int = CLIENTS, hold_s: float = HOLD_S) -> dict[str, Any]:
    """Memory of a host before and while `clients` slow readers hold /plotly.min.js requests open."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="bench-slow-") as state:
        command = [sys.executable, "-m", "trader_host.cli", "run", "--no-cloud", "--regime", "trend"]
        command += ["--synthetic-days", "1", "--seed", "3", "--pace", "60", "--state-dir", state]
        command += ["--monitor-port", str(port)]
        env = {**os.environ, "PYTHONPATH": f"{REPO / 'layers' / 'regime'}:{REPO}"}
        proc = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        socks: list[socket.socket] = []
        try:
            _wait_for(port, proc)
            time.sleep(2.0)
            before = rss_mb(proc.pid)
            for _ in range(clients):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a reader that barely reads
                s.connect(("127.0.0.1", port))
                s.sendall(b"GET /plotly.min.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                socks.append(s)
            peak, answered, started = before, 0, time.monotonic()
            while time.monotonic() - started < hold_s:
                peak = max(peak, rss_mb(proc.pid))
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/snapshot", timeout=5) as r:
                        answered += r.status == 200
                except OSError:
                    pass
                time.sleep(0.5)
            alive = proc.poll() is None
        finally:
            for s in socks:
                s.close()
            proc.kill()
            proc.wait()
    return {
        "clients": clients,
        "hold_s": hold_s,
        "rss_before_mb": round(before, 1),
        "rss_peak_mb": round(peak, 1),
        "rss_growth_mb": round(peak - before, 1),
        "snapshots_answered_meanwhile": answered,
        "host_alive": alive,
    }


def main() -> None:
    figures = measure()
    print(
        f"{figures['clients']} slow readers of /plotly.min.js: host RSS {figures['rss_before_mb']} MB -> "
        f"peak {figures['rss_peak_mb']} MB (+{figures['rss_growth_mb']} MB); "
        f"{figures['snapshots_answered_meanwhile']} snapshot(s) answered meanwhile; "
        f"host alive: {figures['host_alive']}"
    )
    print(f"written to {write_results('monitor_slow_readers', figures)}")


if __name__ == "__main__":
    main()
