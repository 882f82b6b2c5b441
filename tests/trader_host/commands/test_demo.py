"""`regime-trader demo` (what `make demo` runs): train, evaluate, then backtest on unseen sessions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from regime.inference import RegimeModel
from trader_host.cli import main


@pytest.mark.slow
def test_demo_trains_then_backtests_on_unseen_sessions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--days", "6", "--backtest-days", "2", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "final vote vs TRUE regime" in out
    assert "ML captures" in out and "net_usd" in out
    model = RegimeModel.load(tmp_path / "model" / "ensemble.onnx")
    results = json.loads((tmp_path / "backtest.json").read_text())
    assert results["meta"]["regimes"] == ["ml", "truth", "hindsight", "range", "trend", "random"]
    assert model.metadata.training_range["seed"] == 7  # trained on seed 7, backtested on seed 8
