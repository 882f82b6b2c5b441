"""`regime-trader train` end to end: synthetic days and a bars file each give ensemble.onnx and a report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from regime.inference import RegimeModel
from regime.synthetic import synthetic_days
from trader_host.cli import main

MCL = Path(__file__).resolve().parents[4] / "shared" / "data" / "MCL_1m_2026-01-15_2026-02-27.csv"


@pytest.mark.slow
def test_train_on_synthetic_days(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["train", "--synthetic-days", "6", "--folds", "2", "--out", str(tmp_path), "--no-progress"]) == 0
    )
    out = capsys.readouterr().out
    assert "final vote vs labels" in out and "vs TRUE regime" in out
    model = RegimeModel.load(tmp_path / "ensemble.onnx")
    report = json.loads((tmp_path / "evaluation.json").read_text())
    assert report["model_version"] == model.version
    assert report["evaluation"]["truth"]["accuracy"] == model.metadata.oos_scores["truth_accuracy"]
    assert f"train: writing {tmp_path / 'ensemble.onnx'}" in out  # where it writes, said first
    # Another market into the same folder would silently replace this model: refused unless --force.
    assert (
        main(["train", "--synthetic-days", "6", "--seed", "9", "--out", str(tmp_path), "--no-progress"]) == 2
    )
    assert capsys.readouterr().err == (
        f"regime-trader train: {tmp_path / 'ensemble.onnx'} holds a model trained on 6 synthetic sessions "
        "(seed 7), not on 6 synthetic sessions (seed 9): give another --out, or --force to replace it\n"
    )
    assert RegimeModel.load(tmp_path / "ensemble.onnx").version == model.version


@pytest.mark.slow
def test_train_on_a_bars_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bars = tmp_path / "CL_1m.csv"
    series = synthetic_days(5, seed=3).bars
    lines = ["ts_utc,open,high,low,close,volume"] + [
        f"{b.ts:%Y-%m-%dT%H:%M:00Z},{b.open},{b.high},{b.low},{b.close},{b.volume}" for b in series.to_bars()
    ]
    lines.insert(100, "2026-01-05T00:00:00Z,-1,1,1,1,1")  # a bad row: reported, set aside
    bars.write_text("\n".join(lines) + "\n")
    out_dir = tmp_path / "model"
    assert main(["train", "--bars", str(bars), "--folds", "2", "--out", str(out_dir), "--no-progress"]) == 0
    report = json.loads((out_dir / "evaluation.json").read_text())
    assert report["data"]["rejected"] == ["row 101: a price is missing, not a number or not positive"]
    assert "truth" not in report["evaluation"]
    metadata = RegimeModel.load(out_dir / "ensemble.onnx").metadata
    assert metadata.training_range["symbols"] == ["CL"]
    assert metadata.feature_spec["tick_size"] == 0.01  # from CL's contract spec


def test_an_unknown_symbol_needs_a_tick_size(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bars = tmp_path / "ZZ_1m.csv"
    bars.write_text("ts_utc,open,high,low,close,volume\n2026-01-05T00:00:00Z,1,1,1,1,1\n")
    assert main(["train", "--bars", str(bars), "--out", str(tmp_path), "--no-progress"]) == 2
    assert "no contract spec for 'ZZ'" in caplog.text and "--tick-size" in caplog.text


@pytest.mark.slow
@pytest.mark.realdata
def test_train_on_the_real_mcl_file(tmp_path: Path) -> None:
    assert main(["train", "--bars", str(MCL), "--folds", "2", "--out", str(tmp_path), "--no-progress"]) == 0
    report = json.loads((tmp_path / "evaluation.json").read_text())
    ev = report["evaluation"]
    # Range is learnable on real bars (AUC well above 0.5); trend much less so (see DESIGN.md).
    assert ev["hemispheres"]["range"]["auc_mean_prob"] > 0.58
    assert ev["hemispheres"]["range"]["accuracy"] > ev["hemispheres"]["range"]["baseline"]
