"""`regime-trader evaluate`: a model scored on sessions after its training, refused inside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from regime.contracts.evidence import Evidence
from regime.synthetic import SyntheticMarket
from trader_host.cli import build_parser, main


def _write_bars(path: Path, market: SyntheticMarket) -> Path:
    lines = ["ts_utc,open,high,low,close,volume"] + [
        f"{b.ts:%Y-%m-%dT%H:%M:00Z},{b.open},{b.high},{b.low},{b.close},{b.volume}"
        for b in market.bars.to_bars()
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_help_names_the_model_and_the_data(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["evaluate", "--help"])
    text = capsys.readouterr().out
    for option in ("--model", "--bars", "--synthetic-days", "--start", "--end", "--evidence", "--json"):
        assert option in text


def test_synthetic_sessions_after_the_training_are_scored_and_backtested(
    tmp_path: Path, small_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, evidence = tmp_path / "eval.json", tmp_path / "evidence.json"
    args = ["evaluate", "--model", str(small_model_path), "--synthetic-days", "2", "--seed", "11"]
    args += [
        "--regimes",
        "truth,range,random",
        "--random-seeds",
        "3",
        "--json",
        str(out),
        "--evidence",
        str(evidence),
        "--no-progress",
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    for words in ("ROC AUC", "log loss", "base rate", "calibration", "gross_ticks_per_trip", "net_usd"):
        assert words in text, words
    report = json.loads(out.read_text())
    small_training_end = "2026-01-14T21"  # eight sessions from 2026-01-05: the last closes on the 14th
    assert report["scores"]["span"]["first_window_end"] > small_training_end
    trend = report["scores"]["hemispheres"]["trend"]
    assert 0 < trend["positive_rate"] < 1 and trend["accuracy_ci95"][0] <= trend["accuracy"]
    assert 0.0 <= trend["auc_mean_prob"] <= 1.0 and trend["log_loss"] > 0
    assert [c["name"] for c in report["columns"]] == ["ml", "truth", "range", "random"]  # ml: always
    assert report["random_seeds"]["seeds"] == 3 and "beat random at 95%" in text
    ml = report["columns"][0]
    assert ml["pnl"]["days"] == 2
    assert sum(ml["pnl"]["daily_net_usd"]) == pytest.approx(ml["net_usd"], abs=0.05)
    record = Evidence.load(evidence)
    assert record.kind == "evaluate" and record.regime == "ml" and record.oos_net_usd == ml["net_usd"]
    assert record.model_version in text and record.test_span[0] > small_training_end


def test_data_inside_the_training_span_is_refused_naming_the_overlap(
    tmp_path: Path,
    small_model_path: Path,
    small_market: SyntheticMarket,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bars = _write_bars(tmp_path / "CL_1m.csv", small_market)
    code = main(["evaluate", "--model", str(small_model_path), "--bars", str(bars), "--start", "2026-01-12"])
    assert code == 2
    err = capsys.readouterr().err
    assert "overlaps the training span" in err and "2026-01-12 00:00" in err
    assert not (tmp_path / "artifacts").exists()
