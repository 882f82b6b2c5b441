"""`regime-trader sweep --executor ray` on a real local Ray cluster (a head on 127.0.0.1 started for the test,
two CPUs, stopped after): the same results as the local executor, to the cent, through the same store."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.trading_engine.sweep.small_sweep import SMALL_SWEEP
from trader_host.cli import build_parser, main
from trader_host.commands.sweep import _prepare
from trading_engine.sweep.ray_executor import RayExecutor
from trading_engine.sweep.sweep_executor import LocalExecutor

GRID = ["--grid", "z_thresh=1.5,2.0", "stop_offset_ticks=3,6"]

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ray_head() -> Iterator[str]:
    """A Ray head node on 127.0.0.1 in its own process group (stopped by that group's id, never by name)."""
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="ray-")  # short: Ray's socket paths must fit in 107 characters
    ray = Path(sys.executable).with_name("ray")
    argv = [str(ray), "start", "--head", "--block", "--port", str(port), "--num-cpus", "2"]
    argv += ["--include-dashboard=false", "--node-ip-address", "127.0.0.1", "--disable-usage-stats"]
    argv += ["--temp-dir", temp]
    # Token authentication off on both sides: `ray start` turns it on by itself when ~/.ray/auth_token exists
    # (any earlier local `ray.init()` writes one), and this process's client would not send the token.
    auth = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    head = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert head.stdout is not None
        for line in head.stdout:  # --block: ready once it says so
            if b"will now block" in line:
                break
        else:
            pytest.fail(f"ray start exited {head.wait()}")
        yield f"127.0.0.1:{port}"
    finally:
        # SIGTERM to `ray start` alone: it drains the node through its GCS, then stops the processes it
        # started. Sent to the whole group, the GCS dies first and the drain waits 30 s for it in vain.
        head.send_signal(signal.SIGTERM)
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGKILL)  # anything of the group still running
        if auth is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = auth


def test_ray_gives_the_local_executors_results_to_the_cent(ray_head: str, tmp_path: Path) -> None:
    args = build_parser(["sweep"]).parse_args([*SMALL_SWEEP, *GRID])
    setup = _prepare(args)[0]
    tasks = list(range(len(setup.candidates)))
    start = time.perf_counter()
    local = dict(LocalExecutor().map(setup.evaluate, tasks))
    local_s = time.perf_counter() - start
    start = time.perf_counter()
    remote = dict(RayExecutor(ray_head, batch=1).map(setup.evaluate, tasks))  # one task per batch: streamed
    ray_s = time.perf_counter() - start
    print(f"4 configurations: local {local_s:.2f} s, Ray {ray_s:.2f} s")
    assert sorted(remote) == tasks
    for k in tasks:
        np.testing.assert_array_equal(remote[k].exit_ts, local[k].exit_ts)
        np.testing.assert_array_equal(remote[k].net_usd, local[k].net_usd)
    assert sum(len(r.net_usd) for r in local.values()) > 20

    reports = {}
    for name, extra in (("local", []), ("ray", ["--executor", "ray", "--ray-address", ray_head])):
        out = tmp_path / name
        assert (
            main(
                [*SMALL_SWEEP, *GRID, *extra, "--out", str(out / "store"), "--json", str(out / "report.json")]
            )
            == 0
        )
        reports[name] = json.loads((out / "report.json").read_text())
        assert len(list((out / "store" / "configs").glob("*.npz"))) == 4  # every result kept as it came
    assert reports["ray"]["folds"] == reports["local"]["folds"]
    assert reports["ray"]["oos_net_usd"] == reports["local"]["oos_net_usd"]


def test_sweep_help_offers_the_ray_executor(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    text = capsys.readouterr().out
    assert "--executor {local,ray}" in text and "--ray-address" in text
