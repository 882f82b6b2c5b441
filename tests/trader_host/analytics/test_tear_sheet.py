"""The tear sheet's figures against hand-computed ones."""

from __future__ import annotations

import math

import pytest

from trader_host.analytics.tear_sheet import tear_sheet

NETS = [50.0, -20.0, -10.0, 40.0, -30.0, 5.0]
TRIPS = [
    {
        "entry_ts": f"2026-02-{10 + i:02d}T14:00:00Z",
        "exit_ts": f"2026-02-{10 + i:02d}T14:30:00Z",
        "held_s": 1800,
        "net_usd": net,
    }
    for i, net in enumerate(NETS)
]
DAYS = [("2026-01-30", 100.0), ("2026-02-02", -50.0), ("2026-02-03", 30.0), ("2026-02-04", -20.0)]
DAYS += [("2026-02-05", 40.0)]


def test_ratios_match_the_hand_computed_figures() -> None:
    sheet = tear_sheet(TRIPS, DAYS)
    # Daily net: mean 20, sample sd sqrt(13400 / 4); downside deviation sqrt((50^2 + 20^2) / 5).
    assert sheet.sharpe == pytest.approx(20 / math.sqrt(13400 / 4) * math.sqrt(252))
    assert sheet.sortino == pytest.approx(20 * 252 / (math.sqrt(2900 / 5) * math.sqrt(252)))
    assert sheet.sharpe == pytest.approx(5.4854, abs=1e-4) and sheet.sortino == pytest.approx(
        13.1831, abs=1e-4
    )
    # Trips: equity 50 30 20 60 30 35, peaks 50 50 50 60 60 60: the deepest fall is 30 USD.
    assert sheet.equity == [50, 30, 20, 60, 30, 35] and sheet.underwater == [0, -20, -30, 0, -30, -25]
    assert sheet.max_drawdown_usd == 30.0
    assert sheet.calmar == pytest.approx(20 * 252 / 30)
    assert sheet.profit_factor == pytest.approx(95 / 60) and sheet.expectancy_usd == pytest.approx(35 / 6)
    assert sheet.win_rate == pytest.approx(3 / 6)
    assert (sheet.longest_win_streak, sheet.longest_loss_streak) == (1, 2)
    # 6 half hours held between the first entry and the last exit, 5 days and 30 minutes later.
    assert sheet.exposure == pytest.approx(6 * 1800 / (5 * 86400 + 1800))
    assert sheet.monthly == {(2026, 1): 100.0, (2026, 2): 0.0}
    first, second = sheet.drawdowns
    assert (first.depth_usd, first.recovered_at, first.trips) == (30.0, "2026-02-13T14:30:00Z", 3)
    assert (second.depth_usd, second.recovered_at) == (30.0, None)


def test_nothing_traded_is_not_a_number_not_a_crash() -> None:
    sheet = tear_sheet([], [])
    assert sheet.trips == 0 and math.isnan(sheet.sharpe) and math.isnan(sheet.profit_factor)
    assert sheet.drawdowns == [] and sheet.monthly == {}
