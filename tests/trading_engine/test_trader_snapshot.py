"""The Trader's snapshot: its state as values (position, open trip, counters, risk), never its live parts."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from decimal import Decimal

import pytest

from regime.contracts import Regime, Side
from tests.trading_engine.test_trader import CONFIG, T0, enter_long, fill, place, tick, trader
from trading_engine.broker.port import ConnectionChanged, FeedEnded
from trading_engine.config import RiskConfig
from trading_engine.instruments import contract
from trading_engine.trader import Trader


def test_a_flat_trader_answers_flat_and_unhalted() -> None:
    snap = trader().snapshot()
    assert (snap.position, snap.open_trip, snap.last, snap.unrealised_ticks) == (0, None, None, 0.0)
    assert (snap.fills, snap.round_trips, snap.working_orders, snap.rejects) == (0, 0, 0, 0)
    assert snap.risk.kill_reason is None and not snap.risk.loss_limit_hit
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.position = 1  # type: ignore[misc]


def test_the_z_score_band_appears_once_the_window_is_full() -> None:
    assert Trader(contract("CL"), CONFIG).snapshot().band is None  # no closes yet: no z-score
    band = trader().snapshot().band  # closes 1000, 1002, 998, 1000
    assert band is not None and band.mean == 1000.0 and band.sd == pytest.approx(1.633, abs=1e-3)


def test_an_open_long_shows_its_trip_marked_at_the_last_price() -> None:
    tr = trader()
    enter_long(tr)  # bought 1 at 996
    tr.on_tick(tick(1, 994), T0 + 1, Regime.RANGE)
    snap = tr.snapshot()
    assert snap.position == 1 and snap.last == 994 and snap.unrealised_ticks == -2.0
    assert snap.open_trip is not None
    assert (snap.open_trip.side, snap.open_trip.regime, snap.open_trip.entry_price) == (
        Side.BUY,
        Regime.RANGE,
        996,
    )
    assert snap.open_trip.stop is not None and snap.open_trip.stop < 996
    assert snap.fills == 1 and snap.fees_usd == tr.fills()[0].commission_usd > 0


def test_the_loss_limit_and_a_kill_show_in_the_risk_state() -> None:
    tr = trader(replace(CONFIG, risk=RiskConfig(max_daily_loss_usd=20.0)))
    enter_long(tr)
    fill(tr, place(tr.on_tick(tick(1, 993), T0 + 1, Regime.RANGE)), 1.1, 993)  # flattened at the limit
    snap = tr.snapshot()
    assert snap.position == 0 and snap.open_trip is None and snap.round_trips == 1
    assert snap.risk.loss_limit_hit and snap.risk.loss_limit_days == 1
    assert snap.risk.day_realised_net_usd == snap.realised_net_usd < Decimal(-20)
    tr.kill(T0 + 2, "ssm")
    assert tr.snapshot().risk.kill_reason == "ssm"


def test_the_last_tick_its_z_score_and_the_connection_are_in_the_snapshot() -> None:
    tr = trader()
    assert (tr.snapshot().z, tr.snapshot().last_tick_ts) == (None, None)
    tr.on_tick(tick(1, 1002), T0 + 1, Regime.NOTHING)  # mean 1000, sd 1.633: z 1.22, no entry in `nothing`
    snap = tr.snapshot()
    assert snap.last_tick_ts == T0 + 1 and snap.z == pytest.approx(2 / 1.633, abs=1e-3)
    assert snap.connected and not snap.feed_ended
    tr.on_event(ConnectionChanged(T0 + 2, False), T0 + 2, Regime.NOTHING)
    tr.on_event(FeedEnded(T0 + 3), T0 + 3, Regime.NOTHING)
    snap = tr.snapshot()
    assert (snap.connected, snap.feed_ended, snap.disconnects) == (False, True, 1)


def test_the_records_the_trader_answers_are_copies() -> None:
    tr = trader()
    enter_long(tr)
    fills = tr.fills()
    fills.clear()
    assert len(tr.fills()) == 1 and tr.fills(1) == [] and tr.round_trips() == []
