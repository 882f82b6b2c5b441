"""Trader, the pure core: entries, both exits, every execution timeout path, kill switch and flatten."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from regime.contracts import ExitReason, Regime, RoundTrip, Side
from trading_engine.broker.port import (
    Execution,
    MinuteBar,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    OrderType,
    SeriesRestarted,
    Tick,
)
from trading_engine.config import ExecutionConfig, HostConfig, RiskConfig, StopExit, StrategyConfig
from trading_engine.execution.commands import CancelOrder, Command, PlaceOrder, QueryOrder
from trading_engine.execution.order import OrderState
from trading_engine.fees import TIERED
from trading_engine.instruments import contract
from trading_engine.trader import Trader

T0 = datetime(2026, 1, 13, 15, 0, tzinfo=UTC).timestamp()  # Tuesday 10:00 New York: far from the break
CONFIG = HostConfig(strategy=StrategyConfig(lookback_bars=4), risk=RiskConfig(max_daily_loss_usd=1000.0))


def trader(config: HostConfig = CONFIG) -> Trader:
    t = Trader(contract("CL"), config)
    for k, close in enumerate([1000, 1002, 998, 1000]):  # mean 1000, sd 1.633
        t.on_event(MinuteBar(int(T0 // 60) - 4 + k, close, close, close, close, 1), T0, Regime.RANGE)
    return t


def tick(t: float, last: int) -> Tick:
    return Tick(T0 + t, last, last + 1, last, 1)


def place(commands: list[Command]) -> PlaceOrder:
    (cmd,) = [c for c in commands if isinstance(c, PlaceOrder)]
    return cmd


def fill(tr: Trader, cmd: PlaceOrder, t: float, price: int, n: int = 1) -> list[Command]:
    r = cmd.request
    ex = Execution(T0 + t, f"{r.order_id}-x{n}", r.order_id, r.side, r.qty, price, TIERED.for_fill(r.qty))
    return tr.on_event(ex, T0 + t, Regime.RANGE)


def enter_long(tr: Trader) -> PlaceOrder:
    cmd = place(tr.on_tick(tick(0, 996), T0, Regime.RANGE))  # z = -2.45: range -> buy at the bid
    assert cmd.request.side is Side.BUY and cmd.request.limit == 996
    tr.on_event(OrderAccepted(T0 + 0.05, cmd.request.order_id), T0 + 0.05, Regime.RANGE)
    fill(tr, cmd, 0.5, 996)
    assert tr.position == 1
    return cmd


def trips(tr: Trader) -> list[RoundTrip]:
    return [r for r in tr.take_records() if isinstance(r, RoundTrip)]


def test_entry_matrix_drives_orders_at_bid_and_ask() -> None:
    tr = trader()
    sell = place(tr.on_tick(tick(0, 1004), T0, Regime.RANGE))  # z = +2.45 in range: sell at the ask
    assert sell.request.side is Side.SELL and sell.request.limit == 1005
    tr2 = trader()
    buy = place(tr2.on_tick(tick(0, 1004), T0, Regime.TREND))  # trend follows
    assert buy.request.side is Side.BUY and buy.request.limit == 1004
    assert trader().on_tick(tick(0, 1004), T0, Regime.NOTHING) == []
    assert trader().on_tick(tick(0, 1005), T0, Regime.RANGE) == []  # z = 3.06: beyond the band


def test_one_position_at_a_time() -> None:
    tr = trader()
    place(tr.on_tick(tick(0, 996), T0, Regime.RANGE))
    assert tr.on_tick(tick(0.2, 996), T0 + 0.2, Regime.RANGE) == []  # an order lives: no second entry
    tr2 = trader()
    enter_long(tr2)
    assert not [c for c in tr2.on_tick(tick(1, 996), T0 + 1, Regime.RANGE) if isinstance(c, PlaceOrder)]


def test_range_target_exit_with_a_limit_at_the_ask() -> None:
    tr = trader()
    enter_long(tr)
    exit_cmd = place(tr.on_tick(tick(2, 1000), T0 + 2, Regime.RANGE))  # z = 0: back at the mean
    assert exit_cmd.request.side is Side.SELL and exit_cmd.request.limit == 1001
    assert exit_cmd.request.order_type is OrderType.LIMIT
    fill(tr, exit_cmd, 2.5, 1001)
    (trip,) = trips(tr)
    assert trip.exit_reason is ExitReason.TARGET and trip.pnl_ticks == 5
    assert trip.net_usd == Decimal("50") - Decimal("2.84") and tr.is_idle


def test_trailing_stop_exit() -> None:
    tr = trader()
    enter_long(tr)
    assert tr.on_tick(tick(1, 997), T0 + 1, Regime.RANGE) == []  # z = -1.84: no target yet
    exit_cmd = place(tr.on_tick(tick(2, 992), T0 + 2, Regime.RANGE))  # 4 under the entry
    fill(tr, exit_cmd, 2.1, exit_cmd.request.limit or 0)
    (trip,) = trips(tr)
    assert trip.exit_reason is ExitReason.TRAIL


@pytest.mark.parametrize(
    ("stop_exit", "order_type", "limit", "fill_price"),
    [
        ("touch", OrderType.LIMIT, 992, 992),  # bid 992, ask 993: sells at the bid
        ("market", OrderType.MARKET, None, 991),  # at once, and slipped a tick
    ],
)
def test_stop_exit_modes_send_their_order_and_keep_the_reason(
    stop_exit: StopExit, order_type: OrderType, limit: int | None, fill_price: int
) -> None:
    tr = trader(replace(CONFIG, execution=ExecutionConfig(stop_exit=stop_exit)))
    enter_long(tr)
    exit_cmd = place(tr.on_tick(tick(2, 992), T0 + 2, Regime.RANGE))
    assert exit_cmd.request.order_type is order_type and exit_cmd.request.limit == limit
    fill(tr, exit_cmd, 2.1, fill_price)
    (trip,) = trips(tr)
    assert trip.exit_reason is ExitReason.TRAIL and trip.pnl_ticks == fill_price - 996


def test_market_stop_leaves_target_exits_passive() -> None:
    tr = trader(replace(CONFIG, execution=ExecutionConfig(stop_exit="market")))
    enter_long(tr)
    exit_cmd = place(tr.on_tick(tick(2, 1000), T0 + 2, Regime.RANGE))
    assert exit_cmd.request.order_type is OrderType.LIMIT and exit_cmd.request.limit == 1001


def test_stale_entry_is_cancelled_and_a_late_fill_is_managed_not_doubled() -> None:
    tr = trader()
    cmd = place(tr.on_tick(tick(0, 996), T0, Regime.RANGE))
    oid = cmd.request.order_id
    out = tr.on_tick(tick(5, 996), T0 + 5, Regime.RANGE)  # fill timeout: cancel, and no new entry
    assert out == [CancelOrder(oid)]
    assert tr.on_tick(tick(5.5, 996), T0 + 5.5, Regime.RANGE) == []
    fill(tr, cmd, 5.6, 996)  # the fill raced the cancel
    assert tr.position == 1 and tr.order(oid).state is OrderState.FILLED  # type: ignore[union-attr]
    trip = tr.snapshot().open_trip
    assert trip is not None and trip.stop is not None  # the late position gets its trailing stop
    tr.on_event(OrderCancelled(T0 + 5.7, oid, 1), T0 + 5.7, Regime.RANGE)
    assert tr.order(oid).state is OrderState.FILLED  # type: ignore[union-attr]
    assert tr.max_abs_position == 1


def test_stale_exit_is_cancelled_then_replaced_by_a_market_order() -> None:
    tr = trader()
    enter_long(tr)
    exit_cmd = place(tr.on_tick(tick(2, 992), T0 + 2, Regime.RANGE))
    assert tr.on_tick(tick(3, 991), T0 + 3, Regime.RANGE) == []
    out = tr.on_tick(tick(7, 991), T0 + 7, Regime.RANGE)  # 5 s later: stale
    assert out == [CancelOrder(exit_cmd.request.order_id)]
    assert tr.on_tick(tick(7.1, 991), T0 + 7.1, Regime.RANGE) == []  # no market order before the confirmation
    out = tr.on_event(OrderCancelled(T0 + 7.2, exit_cmd.request.order_id, 0), T0 + 7.2, Regime.RANGE)
    market = place(out)
    assert market.request.order_type is OrderType.MARKET and market.request.qty == 1
    fill(tr, market, 7.3, 990)
    (trip,) = trips(tr)
    assert trip.exit_reason is ExitReason.STALE_TO_MARKET and trip.pnl_ticks == -6


def test_exit_cancel_confirmation_lost_status_settles_it() -> None:
    tr = trader()
    enter_long(tr)
    exit_cmd = place(tr.on_tick(tick(2, 992), T0 + 2, Regime.RANGE))
    tr.on_tick(tick(7, 991), T0 + 7, Regime.RANGE)  # cancel sent; its confirmation is lost
    out = tr.on_event(None, T0 + 10, Regime.RANGE)
    assert out == [QueryOrder(exit_cmd.request.order_id)]


def test_rejected_entry_leaves_the_trader_free_to_try_again() -> None:
    tr = trader()
    cmd = place(tr.on_tick(tick(0, 996), T0, Regime.RANGE))
    tr.on_event(OrderRejected(T0 + 0.1, cmd.request.order_id, "margin"), T0 + 0.1, Regime.RANGE)
    assert tr.is_idle
    assert place(tr.on_tick(tick(1, 996), T0 + 1, Regime.RANGE)).request.side is Side.BUY


def test_kill_switch_cancels_flattens_at_market_and_halts() -> None:
    tr = trader()
    enter_long(tr)
    out = tr.kill(T0 + 1, "ssm")
    market = place(out)
    assert market.request.order_type is OrderType.MARKET and market.request.side is Side.SELL
    fill(tr, market, 1.1, 995)
    (trip,) = trips(tr)
    assert trip.exit_reason is ExitReason.KILL
    assert tr.on_tick(tick(2, 996), T0 + 2, Regime.RANGE) == []  # halted: no new entry


def test_kill_with_a_working_exit_cancels_it_first() -> None:
    tr = trader()
    enter_long(tr)
    exit_cmd = place(tr.on_tick(tick(2, 1000), T0 + 2, Regime.RANGE))
    assert tr.kill(T0 + 2.1, "ssm") == [CancelOrder(exit_cmd.request.order_id)]
    out = tr.on_event(OrderCancelled(T0 + 2.2, exit_cmd.request.order_id, 0), T0 + 2.2, Regime.RANGE)
    assert place(out).request.order_type is OrderType.MARKET


def test_daily_loss_limit_flattens_and_stops_entries() -> None:
    tr = trader(replace(CONFIG, risk=RiskConfig(max_daily_loss_usd=50.0)))
    enter_long(tr)
    out = tr.on_tick(tick(1, 993), T0 + 1, Regime.RANGE)  # -30 USD open, -1.42 fees: fine
    assert not out
    tr2 = trader(replace(CONFIG, risk=RiskConfig(max_daily_loss_usd=20.0)))
    enter_long(tr2)
    market = place(tr2.on_tick(tick(1, 993), T0 + 1, Regime.RANGE))
    assert market.request.order_type is OrderType.MARKET
    fill(tr2, market, 1.1, 993)
    assert trips(tr2)[0].exit_reason is ExitReason.FLATTEN
    assert tr2.on_tick(tick(2, 996), T0 + 2, Regime.RANGE) == []


def test_shutdown_flattens() -> None:
    tr = trader()
    enter_long(tr)
    market = place(tr.shutdown(T0 + 1))
    assert market.request.order_type is OrderType.MARKET
    fill(tr, market, 1.1, 997)
    assert tr.is_idle and trips(tr)[0].exit_reason is ExitReason.FLATTEN


def test_duplicate_fill_reports_are_booked_once() -> None:
    tr = trader()
    cmd = enter_long(tr)
    fill(tr, cmd, 0.6, 996)  # the same execution id again
    assert tr.position == 1 and len(tr.fills()) == 1


def test_a_series_restart_forgets_the_old_months_bars_and_warms_up_on_the_new_ones() -> None:
    tr = trader()
    band = tr.snapshot().band
    assert band is not None and band.mean == 1000.0  # the old month's statistics
    minute = int(T0 // 60)
    new_month = tuple(
        MinuteBar(minute - 4 + k, c, c, c, c, 1) for k, c in enumerate([1100, 1102, 1098, 1100])
    )
    assert tr.on_event(SeriesRestarted(T0, "rolled CLG6 -> CLH6", new_month), T0, Regime.RANGE) == []
    band = tr.snapshot().band
    assert band is not None and band.mean == 1100.0  # the new month's level: no calendar-spread jump
    assert tr.on_event(SeriesRestarted(T0, "rolled", ()), T0, Regime.RANGE) == []
    assert tr.snapshot().band is None  # no bars yet: no signal until warmed up
