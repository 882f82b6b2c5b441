"""`regime-trader backtest` end to end on synthetic days and on a bars file."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from regime.synthetic import synthetic_days
from trader_host.cli import main
from trader_host.commands.backtest import in_sample

MCL = Path(__file__).resolve().parents[4] / "shared" / "data" / "MCL_1m_2026-01-15_2026-02-27.csv"


def test_backtest_on_synthetic_days_with_every_regime_source(
    tmp_path: Path, small_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bt.json"
    code = main(
        [
            "backtest",
            "--synthetic-days",
            "2",
            "--seed",
            "5",
            "--model",
            str(small_model_path),
            "--json",
            str(out),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    header = next(line for line in text.splitlines() if line.startswith("metric"))
    assert header.split() == ["metric", "ml", "truth", "hindsight", "range", "trend", "random"]
    for row in (
        "trades",
        "wins",
        "losses",
        "scratches",
        "gross_ticks_per_trip",
        "net_usd_per_trip",
        "round_turns_per_hour",
        "gross_usd",
        "fees_usd",
        "net_usd",
        "net_max_drawdown_usd",
        "risk_caps",
    ):
        assert any(line.startswith(row) for line in text.splitlines()), row
    assert "beat random at 95%" in text and "daily Sharpe" in text
    data = json.loads(out.read_text())
    results = {r["name"]: r for r in data["results"]}
    assert set(results) == {"ml", "truth", "hindsight", "range", "trend", "random"}
    band = data["meta"]["random_seeds"]
    assert band["seeds"] == 20 and band["net_usd_ci95"][0] <= band["net_usd"] <= band["net_usd_ci95"][1]
    for name, pnl in data["meta"]["pnl"].items():
        assert sum(pnl["daily_net_usd"]) == pytest.approx(results[name]["net_usd"], abs=0.05)
    assert results["truth"]["trades"] > 0
    for r in results.values():
        assert r["net_usd"] == pytest.approx(r["gross_usd"] - r["fees_usd"])
        assert r["fees_usd"] == pytest.approx(2.84 * r["trades"], rel=0.01) or r["trades"] == 0
    assert data["ml_capture"]["against"] == "true-regime"
    # Trading each window under its own labels, known afterwards, is an oracle: it must beat chance.
    assert results["hindsight"]["gross_usd"] > results["random"]["gross_usd"]


def test_backtest_on_a_bars_file_sets_bad_rows_aside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bars = tmp_path / "MCL_1m.csv"
    series = synthetic_days(1, seed=2).bars
    lines = ["ts_utc,open,high,low,close,volume"] + [
        f"{b.ts:%Y-%m-%dT%H:%M:00Z},{b.open},{b.high},{b.low},{b.close},{b.volume}" for b in series.to_bars()
    ]
    lines.insert(50, "2026-01-05T00:00:00Z,-1,1,1,1,1")
    bars.write_text("\n".join(lines) + "\n")
    out = tmp_path / "bt.json"
    assert (
        main(
            [
                "backtest",
                "--bars",
                str(bars),
                "--regimes",
                "range,trend",
                "--fees",
                "retail",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    data = json.loads(out.read_text())
    assert data["meta"]["symbol"] == "MCL" and data["meta"]["rejected"] == 1
    assert data["meta"]["fees"] == "retail"
    trend = data["results"][1]
    assert trend["fees_usd"] == pytest.approx(4.60 * trend["trades"])


def test_a_strategy_window_other_than_the_models_is_logged(
    tmp_path: Path, small_model_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "strategy.toml"
    config.write_text("[strategy]\nlookback_bars = 30\n")
    args = ["backtest", "--synthetic-days", "1", "--model", str(small_model_path), "--regimes", "ml"]
    assert main([*args, "--config", str(config)]) == 0
    assert "strategy.lookback_bars = 30 but the model's z-score feature was trained on 20 bars" in caplog.text
    caplog.clear()
    assert main(args) == 0  # the shipped config trades the model's window: nothing to say
    assert "lookback_bars" not in caplog.text


def test_backtest_refuses_what_it_cannot_do(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert main(["backtest", "--synthetic-days", "1", "--regimes", "ml"]) == 2
    assert "--model" in caplog.text
    assert main(["backtest", "--synthetic-days", "1", "--regimes", "tarot"]) == 2
    assert "unknown tarot" in caplog.text
    assert main(["backtest", "--bars", str(tmp_path / "none.csv")]) == 2
    assert main(["backtest", "--synthetic-days", "1", "--start", "2026-01-05"]) == 2
    assert "--start/--end select part of a --bars file" in caplog.text


def test_a_session_count_below_one_is_refused_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["backtest", "--synthetic-days", "0"])
    assert stop.value.code == 2 and "--synthetic-days: at least one session" in capsys.readouterr().err


def test_backtest_on_part_of_a_bars_file(tmp_path: Path) -> None:
    bars = tmp_path / "MCL_1m.csv"
    series = synthetic_days(2, seed=4).bars
    rows = [
        f"{b.ts:%Y-%m-%dT%H:%M:00Z},{b.open},{b.high},{b.low},{b.close},{b.volume}" for b in series.to_bars()
    ]
    bars.write_text("\n".join(["ts_utc,open,high,low,close,volume", *rows]) + "\n")
    out = tmp_path / "bt.json"
    # The second session only: it opens on 2026-01-05 at 22:00 UTC.
    args = ["backtest", "--bars", str(bars), "--start", "2026-01-05T22:00", "--regimes", "hindsight,range"]
    assert main([*args, "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["meta"]["bars"] == 1380 and "from 2026-01-05 22:00" in data["meta"]["source"]
    assert data["ml_capture"] is None  # no ml column


@pytest.mark.slow
@pytest.mark.realdata
def test_backtest_on_the_mcl_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not MCL.exists():
        pytest.skip("../shared/data is not present on this machine")
    out = tmp_path / "mcl.json"
    assert main(["backtest", "--bars", str(MCL), "--regimes", "range,trend,random", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["meta"]["symbol"] == "MCL" and data["meta"]["bars"] > 40_000
    assert all(r["trades"] > 0 for r in data["results"])


def test_fast_and_reference_engines_print_the_same_table_and_lifted_caps_are_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["backtest", "--synthetic-days", "2", "--seed", "3", "--regimes", "range,trend,random"]
    tables = {}
    for engine in ("fast", "reference"):
        out = tmp_path / f"{engine}.json"
        assert main([*common, "--engine", engine, "--fees", "ib-tiered", "--json", str(out)]) == 0
        text = capsys.readouterr().out
        # The random band over 20 seeds (and the line that compares with it) is the fast engine's only.
        lines = text[text.index("metric") : text.index("results written")].splitlines()
        kept = [x for x in lines if not x.startswith("random over") and "(net of fees)" not in x]
        tables[engine] = "\n".join(kept)
        data = json.loads(out.read_text())
        assert data["meta"]["fees"] == "ib-tiered CL" and data["meta"]["risk_caps"] == "on"
    assert tables["fast"] == tables["reference"]
    assert "loss_limit_days" in tables["fast"] and "LIFTED" not in tables["fast"]
    lifted = tmp_path / "lifted.json"
    assert main([*common, "--no-risk-caps", "--json", str(lifted)]) == 0
    text = capsys.readouterr().out
    caps = next(line for line in text.splitlines() if line.startswith("risk_caps"))
    assert caps.split() == ["risk_caps", "LIFTED", "LIFTED", "LIFTED"]
    results = json.loads(lifted.read_text())["results"]
    assert all(r["loss_limit_days"] == 0 and r["risk_caps_lifted"] for r in results)


def test_a_tight_daily_loss_limit_is_counted_in_days(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "tight.toml"
    text = (Path(__file__).resolve().parents[3] / "config" / "strategy.toml").read_text()
    config.write_text(text.replace("max_daily_loss_ticks = 30.0", "max_daily_loss_ticks = 2.0"))
    out = tmp_path / "tight.json"
    args = ["backtest", "--synthetic-days", "3", "--seed", "3", "--regimes", "trend", "--config", str(config)]
    assert main([*args, "--json", str(out)]) == 0
    (result,) = json.loads(out.read_text())["results"]
    assert 1 <= result["loss_limit_days"] <= 3


def test_a_model_trained_on_the_backtest_bars_is_named_in_sample() -> None:
    series = synthetic_days(2, seed=7).bars
    first, last = series.window_end(0), series.window_end(len(series) - 1)
    trained = {"synthetic_days": 30, "seed": 7, "first_window_end": first.isoformat()}
    trained["last_window_end"] = last.isoformat()
    warning = in_sample(trained, {"synthetic_days": 2, "seed": 7}, series)
    assert warning is not None and "'ml' column is in sample" in warning
    assert in_sample(trained, {"synthetic_days": 2, "seed": 8}, series) is None  # another market
    before = first - timedelta(minutes=1)  # the last training window ended as the first bar began
    after = {**trained, "file": "MCL.csv", "last_window_end": before.isoformat()}
    assert in_sample(after, {"file": "MCL.csv", "start": "", "end": ""}, series) is None  # trained before
    assert in_sample({**after, "last_window_end": last.isoformat()}, {"file": "MCL.csv"}, series) is not None
