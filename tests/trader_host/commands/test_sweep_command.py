"""`regime-trader sweep` end to end on synthetic days: errors before any work, a report, resuming."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from regime.contracts.evidence import Evidence
from trader_host.cli import main
from trading_engine.sweep import sweep_run
from trading_engine.sweep.sweep_executor import TaskResult

BASE = ["sweep", "--synthetic-days", "6", "--seed", "3", "--workers", "1", "--min-days", "2"]
GRID = ["--grid", "z_thresh=1.5,2.0", "stop_offset_ticks=3,6"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grid", "z_thres=2"], "unknown parameter 'z_thres'"),
        (["--grid", "z_thresh=2", "z_target=0.5,2.5"], "impossible combination"),
        (["--grid", "stop_offset_ticks=0"], "stop_offset_ticks: must be >= 1"),
        (["--grid", "z_thresh=two"], "z_thresh='two' is not a float"),
        (["--grid", "z_thresh=inf"], "z_thresh='inf' is not a finite number"),
        (["--grid", "label.range_z=1.5", "--regime", "range"], "use --regime hindsight"),
        (["--grid", "min_confidence=1.5,2", "--regime", "range"], "use --regime ml"),
        (["--grid", "entry_windows=09:00-25:00"], 'is not "HH:MM-HH:MM"'),
        (["--grid", "atr_pct_low=50", "atr_pct_high=40"], "impossible combination"),
        ([*GRID, "--folds", "5"], "walk-forward fold 0"),
        ([*GRID, "--split", "yesterday"], "not a date/time"),
    ],
)
def test_bad_input_is_named_before_any_work(
    args: list[str], message: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "store"
    assert main([*BASE, *args, "--out", str(out)]) == 2
    assert message in caplog.text
    assert not out.exists()  # nothing was run, nothing was stored


def test_a_sweep_reports_folds_baselines_pbo_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, report = tmp_path / "store", tmp_path / "report.json"
    args = [*BASE, *GRID, "label.range_z=1.5,2.5", "--folds", "2", "--out", str(out), "--json", str(report)]
    assert main(args) == 0
    first = json.loads(report.read_text())
    text = capsys.readouterr().out
    assert "fold" in text and ("Nothing survives" in text or "survives" in text)
    assert first["configurations"] == 8 and len(first["folds"]) == 2
    for fold in first["folds"]:
        assert set(fold["baselines_oos_net_usd"]) == {"range", "trend", "random", "hindsight"}
        assert fold["train_days"] >= 2 and fold["test_days"] >= 2
    assert first["pbo"] is None or 0.0 <= first["pbo"] <= 1.0
    assert first["deflated_sharpe"] is None or 0.0 <= first["deflated_sharpe"] <= 1.0
    stored = sorted((out / "configs").glob("*.npz"))
    assert len(stored) == 8
    stored[3].unlink()  # as if the sweep had been interrupted before this configuration

    calls: list[int] = []
    original = sweep_run.SweepSetup.evaluate

    def counting(self: sweep_run.SweepSetup, tasks: list[sweep_run.Task]) -> list[TaskResult]:
        calls.extend(t for t in tasks if isinstance(t, int))  # the candidates (not the baselines' runs)
        return original(self, tasks)

    monkeypatch.setattr(sweep_run.SweepSetup, "evaluate", counting)
    assert main(args) == 0
    assert len(calls) == 1  # only the missing configuration ran again
    again = json.loads(report.read_text())
    assert again["folds"] == first["folds"] and again["oos_net_usd"] == first["oos_net_usd"]
    other = [*BASE, "--grid", "z_thresh=2.0", "--folds", "2", "--out", str(out)]
    assert main(other) == 2  # another sweep in the same store is refused, not mixed in


def test_the_wider_family_are_grid_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Entry windows, a maximum holding time and an ATR band swept like any strategy key; each reaches the
    runs (the configurations trade differently), and the report names them as the command line writes them."""
    store = tmp_path / "store"
    grid = ["--grid", "max_hold_bars=0,3", "entry_windows=all,01:00-09:00+13:00-21:00", "atr_pct_high=100,60"]
    assert main([*BASE, *grid, "--folds", "2", "--out", str(store)]) == 0
    stored = sorted((store / "configs").glob("*.npz"))
    assert len(stored) == 8
    assert any("entry_windows=01:00-09:00+13:00-21:00" in p.name for p in stored)
    nets = {round(float(np.load(p)["net_usd"].sum()), 2) for p in stored}
    assert len(nets) == 8  # every rule changes what is traded
    text = capsys.readouterr().out
    assert "max_hold_bars=" in text and "entry_windows=" in text


def test_a_held_out_test_set_is_reported_apart_in_and_out_of_sample(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, evidence = tmp_path / "report.json", tmp_path / "evidence.json"
    grid = ["--grid", "z_thresh=1.5,2.0,2.5", "stop_offset_ticks=3,6"]
    args = [*BASE, *grid, "--folds", "1", "--test-start", "2026-01-11T22:00", "--random-seeds", "3"]
    assert (
        main([*args, "--out", str(tmp_path / "store"), "--json", str(report), "--evidence", str(evidence)])
        == 0
    )
    text = capsys.readouterr().out
    assert "in sample (selection)" in text and "out of sample (test)" in text
    assert "net oos" in text and "net range" in text and "net USD" in text
    assert "beat random at 95%" in text
    out = json.loads(report.read_text())
    assert out["days"] == 5  # the selection: five sessions before the test, the test apart
    held = out["held_out"]
    assert held["columns"][0]["out_of_sample"]["days"] == 1
    assert held["random"]["out_of_sample"]["seeds"] == 3
    lo, hi = held["random"]["out_of_sample"]["net_usd_ci95"]
    assert lo <= held["random"]["out_of_sample"]["net_usd"] <= hi
    record = Evidence.load(evidence)
    assert record.kind == "sweep" and record.oos_net_usd == held["columns"][0]["out_of_sample"]["net_usd"]
    assert record.selection_span is not None and record.selection_span[1] <= record.test_span[0]
    assert record.deflated_sharpe == out["deflated_sharpe"] and record.pbo == out["pbo"]
    if out["grid_edges"]:
        assert "edge of the grid" in text


def test_the_ml_regime_refuses_a_model_trained_on_the_selection_data(
    tmp_path: Path, small_model_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    args = ["sweep", "--synthetic-days", "6", "--seed", "11", "--min-days", "2", *GRID, "--regime", "ml"]
    args += [
        "--model",
        str(small_model_path),
        "--test-start",
        "2026-01-11T22:00",
        "--out",
        str(tmp_path / "s"),
    ]
    assert main(args) == 2
    assert "overlaps the training span" in caplog.text
    assert not (tmp_path / "s").exists()
