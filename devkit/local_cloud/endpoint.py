"""The local AWS endpoint: a moto server in its own process, on loopback, its request log silenced."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # moto's dummy credentials
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


# While a Docker daemon runs, moto would run the stack's functions in containers when records reach their
# event sources (pulling an image from a registry this machine cannot reach: put_records then hangs until
# its timeout). The local cloud invokes the functions in-process itself, so moto must never start one:
# its `use_docker` setting covers direct invocations, but a Kinesis event source mapping calls the function
# model itself, which always tries Docker; pointed at no daemon, that try fails at once (and is logged).
NO_CONTAINERS: dict[str, Any] = {"lambda": {"use_docker": False}, "batch": {"use_docker": False}}
NO_DOCKER_DAEMON = {"DOCKER_HOST": "unix:///nonexistent/moto-must-not-use-docker.sock"}


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
    def start(cls, port: int | None = None, timeout: float = 30.0, host: str = "127.0.0.1") -> MotoServer:
        """A moto server on `host` (loopback; Docker's bridge gateway for containers) and a free port."""
        port = port or free_port()
        url = f"http://{host}:{port}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # one log line per request otherwise
            env={**os.environ, **NO_DOCKER_DAEMON},
        )
        deadline = time.monotonic() + timeout
        while not is_up(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise EndpointError(f"moto server on port {port} did not start")
            time.sleep(0.1)
        server = cls(url, proc)
        try:
            server.configure(NO_CONTAINERS)
        except OSError as exc:
            server.stop()
            raise EndpointError(f"moto server on port {port} refused its configuration: {exc}") from exc
        return server

    def configure(self, config: dict[str, Any]) -> dict[str, Any]:
        """Set moto's own settings through its configuration API; returns them as moto now has them."""
        request = urllib.request.Request(
            f"{self.url}/moto-api/config",
            data=json.dumps(config).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, Any] = json.loads(response.read())
        return answer

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


@contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """Set environment variables for a while (an invocation, a session), then restore them as they were."""
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def endpoint_environment(url: str) -> Iterator[None]:
    """`use_endpoint(url)` (with moto's dummy credentials) for a while, then the variables as they were."""
    with environment({"AWS_ENDPOINT_URL": url, **DUMMY_CREDENTIALS}):
        yield
