"""Backtest figures, regime timelines and the side-by-side table."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from regime.bar_series import BarSeries
from regime.contracts import ExitReason, Regime, RoundTrip, Side
from regime.contracts.cadence import DECISION_EVERY_MINUTES, VALIDITY_MINUTES
from regime.inference import RegimeModel
from regime.synthetic import synthetic_days
from regime.vote import RANGE, TREND
from trading_engine.backtest.regime_choices import ml_timeline, random_timeline, regime_source, truth_timeline
from trading_engine.backtest.report import ml_capture, summarize, table, to_json

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def trip(ticks: int, fees: str = "2.84", qty: int = 1) -> RoundTrip:
    return RoundTrip(
        "t",
        "CL",
        Side.BUY,
        qty,
        NOW,
        NOW,
        Decimal(70),
        Decimal(70),
        Regime.RANGE,
        -2.1,
        ExitReason.TARGET,
        ticks,
        Decimal(ticks * 10),
        Decimal(fees),
    )


def test_summary_counts_wins_losses_scratches_fees_and_drawdown() -> None:
    r = summarize("x", [trip(3), trip(-2), trip(0), trip(5), trip(-4)], hours=2.0)
    assert (r.trades, r.wins, r.losses, r.scratches) == (5, 2, 2, 1)
    assert r.avg_win_ticks == 4.0 and r.avg_loss_ticks == -3.0
    assert r.ticks_per_trip == pytest.approx(0.4) and r.round_turns_per_hour == 2.5
    assert r.gross_usd == Decimal(20) and r.fees_usd == Decimal("14.20") and r.net_usd == Decimal("5.80")
    # equity: 27.16, 4.32, 1.48, 48.64, 5.80 -> worst fall from a peak 48.64 - 5.80
    assert r.max_drawdown_usd == Decimal("42.84")
    assert summarize("none", [], hours=1.0).trades == 0


def test_table_and_json_put_the_sources_side_by_side() -> None:
    a = summarize("ml", [trip(2)], hours=1.0)
    b = summarize("truth", [trip(4)], hours=1.0)
    text = table([a, b])
    assert text.splitlines()[0].split() == ["metric", "ml", "truth"]
    assert "net_usd" in text and "17.16" in text and "37.16" in text
    capture = ml_capture([a, b])
    assert capture is not None and capture["gross_usd"] == pytest.approx(0.5)
    data = json.loads(to_json([a, b], {"source": "test"}))
    assert data["results"][0]["net_usd"] == pytest.approx(17.16) and data["ml_capture"]["gross_usd"] == 0.5


def test_truth_and_random_timelines() -> None:
    market = synthetic_days(1, seed=3)
    series = market.bars
    tl = truth_timeline(series, market.truth)
    k = 100
    assert (
        tl.regime_at(float(series.minute[k]) * 60 + 30).value
        == ("nothing", "trend", "range")[market.truth[k]]
    )
    assert tl.regime_at(0.0) is Regime.NOTHING  # outside the data
    rnd = random_timeline(series, seed=1)
    m0 = float(series.minute[0]) * 60
    to_boundary = DECISION_EVERY_MINUTES - int(series.minute[0]) % DECISION_EVERY_MINUTES
    window = {rnd.regime_at(m0 + 60 * j) for j in range(to_boundary)}
    assert len(window) == 1  # constant inside a decision interval
    with pytest.raises(ValueError, match="truth"):
        truth_timeline(series, market.truth[:-1])


def test_ml_timeline_decides_every_five_minutes_and_expires(small_model_path: Path) -> None:
    model = RegimeModel.load(small_model_path)
    series = synthetic_days(1, seed=4).bars
    tl, shares = ml_timeline(series, model)
    assert sum(shares.values()) == pytest.approx(1.0)
    ends = series.minute + 1
    at = np.flatnonzero(ends % DECISION_EVERY_MINUTES == 0)
    decisions = model.decide_batch(series, at)
    j = len(at) // 2
    start = int(ends[at[j]]) * 60
    expected = ("nothing", "trend", "range")[decisions.code[j]]
    assert all(tl.regime_at(start + s).value == expected for s in (0, 60, 299))
    # after the last bar: the last decision lasts its validity (VALIDITY_MINUTES), then nothing
    last_end = int(series.minute[-1]) + 1
    assert tl.regime_at(last_end * 60 + (VALIDITY_MINUTES + 1) * 60) is Regime.NOTHING
    assert {TREND, RANGE} & set(decisions.code.tolist())  # the model does say something


def test_regime_source_errors_name_what_is_missing() -> None:
    series = BarSeries.from_arrays(
        "CL", [1, 2], [70.0, 70.0], [70.0, 70.0], [70.0, 70.0], [70.0, 70.0], [1, 1]
    )
    with pytest.raises(ValueError, match="needs synthetic data"):
        regime_source("truth", series)
    with pytest.raises(ValueError, match="--model"):
        regime_source("ml", series)
    with pytest.raises(ValueError, match="unknown regime source"):
        regime_source("astrology", series)
    assert regime_source("range", series).regime_at(0.0) is Regime.RANGE


def test_hindsight_trades_each_window_under_its_own_labels() -> None:
    from regime.features import FeatureSpec
    from regime.labels import LabelSpec, make_labels
    from trading_engine.backtest.regime_choices import hindsight_timeline

    series = synthetic_days(1, seed=12).bars
    labels = make_labels(series, LabelSpec(), FeatureSpec())
    tl = hindsight_timeline(series, LabelSpec(), FeatureSpec())
    checked = 0
    for i in range(len(series)):
        end = int(series.minute[i]) + 1
        if end % DECISION_EVERY_MINUTES or not labels.valid[i]:
            continue
        expected = "range" if labels.range[i] else "trend" if labels.trend[i] else "nothing"
        for minute in range(end, end + 5):  # the window after the boundary, not the one before
            assert tl.regime_at(minute * 60.0 + 30).value == expected
        checked += 1
    assert checked > 200


def test_hindsight_regimes_and_dataset_labels_break_a_tie_the_same_way() -> None:
    from regime.dataset import build_dataset
    from regime.features import FeatureSpec
    from regime.labels import LabelSpec
    from regime.vote import REGIMES
    from trading_engine.backtest.regime_choices import hindsight_timeline

    series = synthetic_days(1, seed=12).bars
    ds = build_dataset(series, FeatureSpec(), LabelSpec())
    tl = hindsight_timeline(series, LabelSpec(), FeatureSpec())
    assert (ds.trend & ds.range).any()  # windows labelled both: the tie is exercised
    for minute, code in zip(ds.minute.tolist(), ds.label_regime.tolist(), strict=True):
        assert tl.regime_at((minute + 1) * 60.0 + 30) is REGIMES[code]


def test_no_share_of_a_hindsight_loss() -> None:
    ml = summarize("ml", [trip(-2)], hours=1.0)
    hindsight = summarize("hindsight", [trip(-1)], hours=1.0)
    capture = ml_capture([ml, hindsight])
    assert capture is not None and capture["against"] == "hindsight-label"
    assert math.isnan(capture["gross_usd"]) and math.isnan(capture["net_usd"])
