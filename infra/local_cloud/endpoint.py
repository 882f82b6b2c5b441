"""The local AWS endpoint: a moto server in its own process, on loopback, its request log silenced."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # moto's dummy credentials
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


class EndpointError(RuntimeError):
    """The local endpoint did not start or answer."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def is_up(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
    except OSError:
        return False
    return True


@dataclass
class MotoServer:
    """A running moto server; `stop()` ends it."""

    url: str
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, port: int | None = None, timeout: float = 30.0) -> MotoServer:
        port = port or free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # one log line per request otherwise
        )
        deadline = time.monotonic() + timeout
        while not is_up(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise EndpointError(f"moto server on port {port} did not start")
            time.sleep(0.1)
        return cls(url, proc)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def use_endpoint(url: str) -> None:
    """Point every boto3 client of this process at `url` (with dummy credentials unless some are set)."""
    os.environ["AWS_ENDPOINT_URL"] = url
    for key, value in DUMMY_CREDENTIALS.items():
        os.environ.setdefault(key, value)
