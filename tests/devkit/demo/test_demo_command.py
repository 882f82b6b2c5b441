"""`regime-trader demo` (what `make demo` runs): the command's steps, its output, and nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trader_host.cli import main

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_demo_trades_through_the_local_cloud_then_reports(
    small_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    argv = ["demo", "--model", str(small_model_path), "--minutes", "150", "--out", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert (
        "[4/4] run the Athena queries" in out and "== trade_statistics" in out and "== pnl_by_regime" in out
    )
    report = Path(out.split("report: ")[1].split()[0])
    assert report.is_file() and "<html" in report.read_text()[:500].lower()
    assert out.rstrip().endswith("local cloud stopped")
    assert os.environ.get("AWS_ENDPOINT_URL") == endpoint  # the demo's endpoint no longer in the environment


def test_bars_need_a_start_day(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--bars", str(tmp_path / "x.csv"), "--out", str(tmp_path)]) == 2
    assert "--bars needs --start" in capsys.readouterr().out


def test_an_interrupted_demo_still_writes_its_report(small_model_path: Path, tmp_path: Path) -> None:
    # Ctrl-C during the trading step: the session flattens, the lake is queried and the report written for
    # what was traded, then exit 130 (it stopped with nothing reported before).
    repo = Path(__file__).resolve().parents[3]
    argv = ["demo", "--model", str(small_model_path), "--pace", "120", "--out", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": f"{repo / 'layers' / 'regime'}:{repo}"}
    demo = subprocess.Popen(
        [sys.executable, "-m", "trader_host.cli", *argv],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert demo.stdout is not None
    lines = []
    try:
        for line in demo.stdout:
            lines.append(line)
            if line.startswith("[3/4]"):
                time.sleep(3)  # a few minutes of the market at 120 times real time
                demo.send_signal(signal.SIGINT)
                break
        out = "".join(lines) + demo.communicate(timeout=300)[0]
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 130, out[-3000:]
    assert "interrupted: the position was flattened" in out
    report = Path(out.split("report: ")[1].split()[0])
    assert report.is_file() and "Tear sheet" in report.read_text()
