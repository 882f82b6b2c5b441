"""What the page is sent: the strategy's own z-score and bands, exact money, the regime record, and a
session that trades exactly the same with the monitor attached as without it."""

from __future__ import annotations

import asyncio
import math
from decimal import Decimal

from bench._monitored import CONFIG, monitored_host
from regime.contracts import Regime, Role, Side
from trading_engine.broker.port import OrderType
from trading_engine.regime_source import FixedRegime
from trading_engine.session import TradingSession
from trading_engine.trader import Trader


def _finished(minutes: float = 60.0):  # type: ignore[no-untyped-def]
    host = monitored_host(pace=None, minutes=minutes)
    asyncio.run(host.session.run())
    return host


def test_ticks_sit_on_the_bands_their_z_score_says() -> None:
    """The page draws the price at mean + z * sd of the bars before it: the strategy's one definition."""
    host = _finished()
    frame, _ = host.server.view.snapshot()
    bars = [b for b in frame["bars"] if b["mean"] is not None]
    assert len(bars) > 30
    checked = 0
    for seq, _wall, ts, _bid, _ask, last, z in frame["ticks"]:
        done = [b for b in bars if b["ts"] + 60 <= ts]
        if z is None or not done or done[-1]["ts"] + 120 <= ts:
            continue
        bar = done[-1]
        assert math.isclose(last, bar["mean"] + z * bar["sd"], abs_tol=2e-4), (seq, last, bar, z)
        checked += 1
    assert checked > 500
    z_thresh = frame["strategy"]["z_thresh"]
    entries = [f for f in frame["fills"] if f["role"] == "entry"]
    assert entries and all(abs(f["zscore"]) >= z_thresh for f in entries)  # entries happen outside the bands


def test_money_is_exact_and_the_position_panel_agrees_with_the_ledger() -> None:
    host = _finished()
    state = host.server.view.state()
    trader = host.session.trader
    fills, position = trader.fills(), state["position"]
    assert Decimal(position["realised_net_usd"]) == trader.realised_net_usd()
    fees = sum((f.commission_usd for f in fills), Decimal(0))
    assert Decimal(position["fees_usd"]) == fees == Decimal("1.42") * len(fills)
    assert position["fills"] == len(fills) and position["qty"] == trader.position == 0
    assert state["risk"]["shutting_down"] and not state["risk"]["halted"]
    assert state["connection"]["connected"] and state["connection"]["disconnects"] == 0


def test_the_regime_panel_shows_the_record_and_its_changes() -> None:
    host = _finished(minutes=40)
    regime = host.server.view.state()["regime"]
    assert regime["tradable"] == regime["decided"] == "trend" and regime["source"] == "cloud"
    assert regime["confidence"] == 0.81 and regime["probabilities"] == {"trend_mlp": 0.81, "range_gbt": 0.1}
    assert 0 <= regime["age_s"] < 300 and regime["model_version"] == "test-v1" and regime["note"] == ""
    assert [r.regime for r in host.tap.regimes] == [Regime.RANGE, Regime.TREND]


def test_a_fixed_regime_says_it_has_no_model_behind_it() -> None:
    host = monitored_host(pace=None, minutes=5)
    host.session.regime = FixedRegime(Regime.RANGE)
    regime = host.server.view.state()["regime"]
    assert regime["source"] == "fixed" and regime["probabilities"] is None and "no model" in regime["note"]


def test_an_update_carries_only_what_is_new() -> None:
    host = monitored_host(pace=None, minutes=30)
    view = host.server.view
    frame, cursor = view.snapshot()
    assert frame["ticks"] == [] and cursor.tick == 0
    asyncio.run(host.session.run())
    update = view.update(cursor)
    assert [t[0] for t in update["ticks"]] == list(range(1, host.tap.tick_seq + 1))
    assert len(update["bars"]) == host.tap.bar_seq and cursor.tick == host.tap.tick_seq
    again = view.update(cursor)
    assert again["ticks"] == again["bars"] == again["fills"] == again["regimes"] == []


def test_the_monitor_changes_nothing_in_how_the_session_trades() -> None:
    watched = _finished(minutes=120)
    plain = monitored_host(pace=None, minutes=120)
    alone = TradingSession(plain.session.broker, Trader(watched.session.trader.spec, CONFIG), plain.decisions)
    alone.stop_at = plain.session.stop_at
    asyncio.run(alone.run())
    assert watched.session.trader.fills() == alone.trader.fills()
    assert len(alone.trader.fills()) > 4


def test_working_orders_come_first_with_their_state_and_price() -> None:
    host = _finished(minutes=40)
    trader, now = host.session.trader, host.session.broker.now()
    place = trader._executor.place(  # white-box: a working order on a host that has shut down
        Side.BUY, 1, OrderType.LIMIT, 7012, Role.ENTRY, now - 2.0, Regime.RANGE, -2.1, signal_price=7013
    )
    orders = host.server.view.state()["orders"]
    first = orders[0]
    assert first["id"] == place.request.order_id and first["state"] == "pending" and first["limit"] == 70.12
    assert (first["role"], first["side"], first["type"], first["age_s"]) == ("entry", "BUY", "LMT", 2.0)
    finished = orders[1:]
    assert finished and all(o["state"] in {"filled", "cancelled", "rejected"} for o in finished)


def test_an_unproven_live_start_is_said_in_every_snapshot() -> None:
    from trader_host.monitor.view import MonitorView

    host = monitored_host(pace=None, minutes=1)
    line = "UNPROVEN (accepted with --accept-unproven): no evidence"
    frame, _ = MonitorView(host.session, host.server.view.tap, line).snapshot()
    assert frame["notice"] == line
    assert host.server.view.snapshot()[0]["notice"] == ""  # a proven or paper start shows nothing
