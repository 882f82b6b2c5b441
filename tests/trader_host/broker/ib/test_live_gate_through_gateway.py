"""A live account through the fake gateway: refused without evidence, trading with it or when accepted."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from regime.contracts.evidence import NO_MODEL, Evidence
from trading_engine.config import load_config, strategy_hash

REPO = Path(__file__).resolve().parents[4]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "layers" / "regime"), str(REPO)])}
LIVE_ACCOUNT = "U7654321"


@pytest.fixture(scope="module")
def live_gateway() -> Iterator[str]:
    """A fake gateway in another process, logged in to a live account; yields its port."""
    gw = subprocess.Popen(
        [sys.executable, "-m", "devkit.fake_gateway", "--pace", "60", "--seed", "11",
         "--account", LIVE_ACCOUNT],
        stdout=subprocess.PIPE, text=True, env=ENV, cwd=REPO,
    )  # fmt: skip
    try:
        assert gw.stdout is not None
        yield gw.stdout.readline().split("127.0.0.1:")[1].split()[0]
    finally:
        gw.terminate()
        gw.wait(timeout=30)


def run_host(port: str, state: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trader_host.cli", "run", "--broker", "ib", "--port", port, "--live",
         "--no-cloud", "--regime", "range", "--minutes", "0.1", "--state-dir", str(state), *extra],
        capture_output=True, text=True, env=ENV, cwd=REPO, timeout=120,
    )  # fmt: skip


@pytest.mark.slow
def test_a_live_account_without_evidence_does_not_start(live_gateway: str, tmp_path: Path) -> None:
    host = run_host(live_gateway, tmp_path)
    out = host.stdout + host.stderr
    assert host.returncode == 2, out[-2000:]
    config_hash = strategy_hash(load_config(None))
    assert "a live account needs evidence: no evidence (--evidence FILE" in out
    assert f"for strategy config {config_hash} and regime range" in out
    assert "connected to IB" not in out and not (tmp_path / "CL.journal").exists()


@pytest.mark.slow
def test_a_live_account_with_evidence_or_accepting_none_trades(live_gateway: str, tmp_path: Path) -> None:
    evidence = Evidence(
        kind="sweep", created_at="2026-12-07T00:00:00Z", command="regime-trader sweep", symbol="CL",
        strategy_config_hash=strategy_hash(load_config(None)), regime="range", model_version=NO_MODEL,
        selection_span=None, test_span=["2026-01-05", "2026-01-06"], oos_net_usd=10.0, oos_trips=3,
        deflated_sharpe=0.99, pbo=0.1,
    ).write(tmp_path / "evidence.json")  # fmt: skip
    proven = run_host(live_gateway, tmp_path / "a", "--evidence", str(evidence))
    out = proven.stdout + proven.stderr
    assert proven.returncode == 0, out[-3000:]
    assert f"LIVE TRADING on account {LIVE_ACCOUNT}" in out and "evidence: proven out of sample" in out
    accepted = run_host(live_gateway, tmp_path / "b", "--accept-unproven")
    out = accepted.stdout + accepted.stderr
    assert accepted.returncode == 0, out[-3000:]
    assert "UNPROVEN (accepted with --accept-unproven): no evidence" in out
