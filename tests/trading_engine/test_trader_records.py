"""The Trader's order outcomes and risk events: each order's one final state, and the gate's stops, handed
out with the fills and round trips by `take_records()`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from regime.contracts import (
    ExitReason,
    Fill,
    OrderFinalState,
    OrderOutcome,
    Regime,
    RiskEvent,
    RiskEventKind,
    Role,
    RoundTrip,
    TradeRecord,
)
from tests.trading_engine.test_trader import CONFIG, T0, enter_long, fill, place, tick, trader
from trading_engine.broker.port import OrderCancelled, OrderRejected, OrderType
from trading_engine.config import RiskConfig
from trading_engine.execution.order import FINAL_STATES
from trading_engine.instruments import utc
from trading_engine.trader import Trader


def outcomes(records: list[TradeRecord]) -> dict[str, OrderOutcome]:
    return {r.order_id: r for r in records if isinstance(r, OrderOutcome)}


def events(records: list[TradeRecord]) -> list[RiskEvent]:
    return [r for r in records if isinstance(r, RiskEvent)]


def test_a_stale_entry_cancelled_is_one_outcome_with_its_reason() -> None:
    tr = trader()
    cmd = place(tr.on_tick(tick(0, 996), T0, Regime.RANGE))
    tr.on_tick(tick(5, 996), T0 + 5, Regime.RANGE)  # the fill timeout: cancel
    assert outcomes(tr.take_records()) == {}  # not final yet
    tr.on_event(OrderCancelled(T0 + 5.1, cmd.request.order_id, 0), T0 + 5.1, Regime.RANGE)
    (outcome,) = outcomes(tr.take_records()).values()
    assert outcome == OrderOutcome(
        order_id=cmd.request.order_id,
        symbol="CL",
        role=Role.ENTRY,
        side=cmd.request.side,
        qty=1,
        order_type="limit",
        limit_price=Decimal("9.96"),
        placed_ts=utc(T0),
        final_ts=utc(T0 + 5.1),
        final_state=OrderFinalState.CANCELLED,
        filled_qty=0,
        stale=True,
        reason="stale timeout",
        regime=Regime.RANGE,
        exit_reason=None,
        signal_price=Decimal("9.96"),
    )
    tr.on_event(OrderCancelled(T0 + 5.2, cmd.request.order_id, 0), T0 + 5.2, Regime.RANGE)  # repeated
    assert outcomes(tr.take_records()) == {}  # one outcome per order, ever


def test_a_stale_entry_that_filled_before_its_cancel_is_filled_late() -> None:
    tr = trader()
    cmd = place(tr.on_tick(tick(0, 996), T0, Regime.RANGE))
    tr.on_tick(tick(5, 996), T0 + 5, Regime.RANGE)
    fill(tr, cmd, 5.6, 996)  # the fill raced the cancel
    records = tr.take_records()
    outcome = outcomes(records)[cmd.request.order_id]
    assert (outcome.final_state, outcome.stale, outcome.filled_qty) == (OrderFinalState.FILLED, True, 1)
    assert outcome.reason == "filled after its stale cancel was sent"
    # The fill comes first, then its order's outcome.
    kinds = [type(r) for r in records]
    assert kinds.index(Fill) < kinds.index(OrderOutcome)
    tr.on_event(OrderCancelled(T0 + 5.7, cmd.request.order_id, 1), T0 + 5.7, Regime.RANGE)
    assert outcomes(tr.take_records()) == {}


def test_a_stale_exit_is_replaced_by_market_and_both_orders_end_once() -> None:
    tr = trader()
    enter_long(tr)
    tr.take_records()
    exit_cmd = place(tr.on_tick(tick(2, 992), T0 + 2, Regime.RANGE))
    tr.on_tick(tick(7, 991), T0 + 7, Regime.RANGE)  # stale
    out = tr.on_event(OrderCancelled(T0 + 7.2, exit_cmd.request.order_id, 0), T0 + 7.2, Regime.RANGE)
    market = place(out)
    fill(tr, market, 7.3, 990)
    records = tr.take_records()
    ended = outcomes(records)
    limit, mkt = ended[exit_cmd.request.order_id], ended[market.request.order_id]
    assert (limit.final_state, limit.stale, limit.reason, limit.exit_reason) == (
        OrderFinalState.CANCELLED,
        True,
        "stale timeout, replaced by market",
        ExitReason.TRAIL,
    )
    assert limit.order_type == "limit" and limit.limit_price == tr.spec.price(exit_cmd.request.limit or 0)
    assert (mkt.order_type, mkt.limit_price, mkt.final_state, mkt.exit_reason) == (
        "market",
        None,
        OrderFinalState.FILLED,
        ExitReason.STALE_TO_MARKET,
    )
    assert [r.exit_reason for r in records if isinstance(r, RoundTrip)] == [ExitReason.STALE_TO_MARKET]


def test_a_broker_reject_keeps_the_brokers_words() -> None:
    tr = trader()
    cmd = place(tr.on_tick(tick(0, 996), T0, Regime.RANGE))
    tr.on_event(OrderRejected(T0 + 0.1, cmd.request.order_id, "201: no margin"), T0 + 0.1, Regime.RANGE)
    (outcome,) = outcomes(tr.take_records()).values()
    assert (outcome.final_state, outcome.reason, outcome.stale) == (
        OrderFinalState.REJECTED,
        "201: no margin",
        False,
    )


def test_a_kill_is_a_risk_event_and_cancels_the_working_entry_for_that_reason() -> None:
    tr = trader()
    cmd = place(tr.on_tick(tick(0, 996), T0, Regime.RANGE))
    tr.kill(T0 + 1, "kill switch")
    tr.on_event(OrderCancelled(T0 + 1.1, cmd.request.order_id, 0), T0 + 1.1, Regime.RANGE)
    records = tr.take_records()
    (event,) = events(records)
    assert event == RiskEvent(
        "CL", utc(T0 + 1), RiskEventKind.KILL, date(2026, 1, 13), Decimal(0), "kill switch"
    )
    assert event.event_id == "CL:kill:2026-01-13"
    outcome = outcomes(records)[cmd.request.order_id]
    assert (outcome.final_state, outcome.stale, outcome.reason) == (OrderFinalState.CANCELLED, False, "kill")
    tr.kill(T0 + 2, "again")
    assert events(tr.take_records()) == []  # halted once


def test_the_daily_loss_limit_is_one_risk_event_with_the_days_net_at_that_moment() -> None:
    tr: Trader = trader(replace(CONFIG, risk=RiskConfig(max_daily_loss_usd=20.0)))
    enter_long(tr)
    market = place(tr.on_tick(tick(1, 993), T0 + 1, Regime.RANGE))  # -3 ticks open, 1.42 of fees
    fill(tr, market, 1.1, 993)
    tr.on_tick(tick(2, 990), T0 + 2, Regime.RANGE)  # still stopped: no second event
    records = tr.take_records()
    (event,) = events(records)
    assert (event.kind, event.ts, event.trading_day) == (
        RiskEventKind.LOSS_LIMIT,
        utc(T0 + 1),
        date(2026, 1, 13),
    )
    assert event.day_net_usd == Decimal("-31.42")  # -30 USD open, -1.42 USD the entry's fee
    assert event.detail.startswith("day net -31.42 USD <= -20.00 USD")
    flatten = outcomes(records)[market.request.order_id]
    assert (flatten.exit_reason, flatten.final_state) == (ExitReason.FLATTEN, OrderFinalState.FILLED)


def test_every_order_placed_in_a_session_ends_in_exactly_one_outcome() -> None:
    tr = trader()
    enter_long(tr)
    market = place(tr.shutdown(T0 + 1))
    fill(tr, market, 1.1, 997)
    assert tr.is_idle
    ids = [r.order_id for r in tr.take_records() if isinstance(r, OrderOutcome)]
    assert sorted(ids) == sorted(o.order_id for o in tr.recent_orders()) and len(set(ids)) == len(ids)
    assert market.request.order_type is OrderType.MARKET


def test_the_outcomes_final_states_are_the_executors() -> None:
    assert {s.value for s in FINAL_STATES} == {s.value for s in OrderFinalState}


def test_a_fill_after_the_cancel_was_confirmed_revises_the_outcome() -> None:
    # IB's race: the cancel is confirmed, then the execution arrives (it filled first). The lake's outcome
    # must not keep saying "cancelled, nothing filled": a revision with the truth follows, and the queries
    # keep the highest revision of each order.
    tr = trader()
    cmd = place(tr.on_tick(tick(0, 996), T0, Regime.RANGE))
    tr.on_tick(tick(5, 996), T0 + 5, Regime.RANGE)
    tr.on_event(OrderCancelled(T0 + 5.1, cmd.request.order_id, 0), T0 + 5.1, Regime.RANGE)
    (first,) = outcomes(tr.take_records()).values()
    assert (first.final_state, first.filled_qty, first.revision) == (OrderFinalState.CANCELLED, 0, 0)
    fill(tr, cmd, 5.6, 996)
    records = tr.take_records()
    (revised,) = outcomes(records).values()
    assert (revised.final_state, revised.filled_qty, revised.revision) == (OrderFinalState.FILLED, 1, 1)
    assert revised.reason == "reported cancelled, then filled 1 (the cancel lost the race)"
    assert revised.final_ts == first.final_ts and revised.stale
    assert sum(isinstance(r, Fill) for r in records) == 1  # and the fill itself is booked
