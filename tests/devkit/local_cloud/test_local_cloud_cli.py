"""`python -m devkit.local_cloud up --detach / status / down`: a real background process, stopped cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from devkit.local_cloud.__main__ import STATE, alive
from infra.template_yaml import REPO

pytestmark = pytest.mark.slow


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", "devkit.local_cloud", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_up_status_down() -> None:
    if STATE.exists():
        pytest.fail(f"a local cloud is already running ({STATE}); stop it first")
    # No waiting for bars if the real clock crosses a 5-minute boundary during the test.
    up = cli("up", "--detach", "--symbols", "CL,MCL", "--param", "BarWaitSeconds=0")
    assert up.returncode == 0, up.stdout + up.stderr
    state = json.loads(STATE.read_text())
    pid = int(state["pid"])
    try:
        status = cli("status")
        assert status.returncode == 0 and state["outputs"]["BarStreamName"] in status.stdout
        assert cli("up", "--detach").stdout.startswith("already up")
    finally:
        down = cli("down")
    assert down.returncode == 0 and "local cloud down" in down.stdout
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(pid) and not STATE.exists()
    assert cli("status").returncode == 1
    moto = subprocess.run(
        ["pgrep", "-f", f"moto.server -H 127.0.0.1 -p {state['endpoint'].rsplit(':', 1)[1]}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert moto.stdout.strip() == ""  # its endpoint went down with it
