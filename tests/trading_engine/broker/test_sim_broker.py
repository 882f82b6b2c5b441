"""SimBroker and its matching rules, latency, virtual/real pace and every fault it can inject."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

import numpy as np
import pytest

from regime.bar_series import BarSeries
from regime.contracts import Side
from trading_engine.broker.port import (
    BrokerOrderState,
    BrokerUnavailable,
    ConnectionChanged,
    Execution,
    FeedEnded,
    MinuteBar,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    OrderRequest,
    OrderStatus,
    OrderType,
    Tick,
)
from trading_engine.broker.sim.faults import FaultPlan
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.broker.sim.sim_broker import SimBroker
from trading_engine.config import SimConfig
from trading_engine.fees import TIERED
from trading_engine.instruments import contract

T0 = 1_767_600_000.0  # a minute start


def tape(prices: list[int], spread: int = 1, step: float = 1.0) -> MarketTape:
    """One print per second at `prices`, trading at the bid, one bar per minute."""
    n = len(prices)
    t = (T0 + np.arange(n) * step).astype(np.float64)
    last = np.asarray(prices, dtype=np.int64)
    minutes = (t // 60).astype(np.int64)
    um = np.unique(minutes)
    o = np.array([last[minutes == m][0] for m in um])
    h = np.array([last[minutes == m].max() for m in um])
    lo = np.array([last[minutes == m].min() for m in um])
    c = np.array([last[minutes == m][-1] for m in um])
    return MarketTape(
        "CL",
        t,
        last,
        last + spread,
        last,
        np.ones(n, dtype=np.int64),
        um,
        o,
        h,
        lo,
        c,
        np.full(um.shape[0], n, dtype=np.int64),
    )


def req(
    oid: str,
    side: Side,
    kind: OrderType = OrderType.LIMIT,
    limit: int | None = None,
    qty: int = 1,
) -> OrderRequest:
    return OrderRequest(oid, "CL", side, qty, kind, limit)


async def collect(broker: SimBroker, until: float | None = None, limit: int = 10_000) -> list[object]:
    out: list[object] = []
    for _ in range(limit):
        ev = await broker.next_event(until)
        if ev is None:
            break
        out.append(ev)
        if isinstance(ev, FeedEnded):
            break
    return out


def run[T](coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def of[E](events: list[object], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def test_replays_ticks_and_bars_in_time_order_then_ends() -> None:
    async def go() -> list[object]:
        b = SimBroker(tape([7000 + (i % 5) for i in range(130)]), TIERED)
        await b.connect()
        return await collect(b)

    events = run(go())
    assert len(of(events, Tick)) == 130 and len(of(events, MinuteBar)) == 3
    times = [e.ts if not isinstance(e, MinuteBar) else e.end for e in events]  # type: ignore[attr-defined]
    assert times == sorted(times) and isinstance(events[-1], FeedEnded)
    first_bar = of(events, MinuteBar)[0]
    assert first_bar.close == 7000 + (59 % 5)  # bar delivered after its last print


def test_buy_limit_fills_only_when_the_market_trades_through() -> None:
    async def go() -> list[object]:
        b = SimBroker(tape([7000, 7000, 7001, 7000, 6999, 6998]), TIERED, SimConfig(ack_latency_s=0.2))
        await b.connect()
        await b.next_event()  # t0 print: bid 7000 ask 7001
        await b.place_order(req("a", Side.BUY, limit=7000))
        return await collect(b)

    events = run(go())
    (acc,) = of(events, OrderAccepted)
    assert acc.ts == pytest.approx(T0 + 0.2)
    (fill,) = of(events, Execution)
    # prints 7000 (at our price: no fill), 7001, 7000, then 6999 trades through -> filled at our 7000
    assert fill.price == 7000 and fill.ts == pytest.approx(T0 + 4 + 0.1)
    assert fill.commission_usd == TIERED.for_fill(1)


def test_marketable_limit_and_market_orders_fill_at_the_touch_plus_slippage() -> None:
    async def go() -> list[object]:
        b = SimBroker(tape([7000] * 5), TIERED, SimConfig(ack_latency_s=0.0, slippage_ticks=2))
        await b.connect()
        await b.next_event()
        await b.place_order(req("lim", Side.BUY, limit=7005))  # ask is 7001: improves to the touch
        await b.place_order(req("mkt", Side.SELL, OrderType.MARKET))
        return await collect(b)

    fills = {e.order_id: e for e in of(run(go()), Execution)}
    assert fills["lim"].price == 7001
    assert fills["mkt"].price == 7000 - 2


def test_cancel_before_a_fill_and_status_of_everything() -> None:
    async def go() -> list[object]:
        b = SimBroker(tape([7000] * 10), TIERED, SimConfig(ack_latency_s=0.1))
        await b.connect()
        await b.next_event()
        await b.place_order(req("a", Side.BUY, limit=6990))
        await b.next_event(T0 + 2)
        await b.cancel_order("a")
        await b.request_status("a")
        await b.request_status("never")
        return await collect(b)

    events = run(go())
    (cxl,) = of(events, OrderCancelled)
    assert cxl.order_id == "a" and cxl.filled_qty == 0
    statuses = {s.order_id: s.state for s in of(events, OrderStatus)}
    assert statuses == {"a": BrokerOrderState.CANCELLED, "never": BrokerOrderState.UNKNOWN}


def test_invalid_orders_are_rejected_with_the_reason() -> None:
    async def go() -> list[object]:
        b = SimBroker(tape([7000] * 3), TIERED)
        await b.connect()
        await b.place_order(req("a", Side.BUY, limit=None))
        await b.place_order(OrderRequest("b", "ES", Side.BUY, 1, OrderType.MARKET, None))
        return await collect(b)

    reasons = {e.order_id: e.reason for e in of(run(go()), OrderRejected)}
    assert "without a limit" in reasons["a"] and "unknown symbol" in reasons["b"]


def test_faults_reject_lose_and_duplicate_messages() -> None:
    async def go(plan: FaultPlan) -> list[object]:
        b = SimBroker(tape([7000] * 5), TIERED, faults=plan)
        await b.connect()
        await b.next_event()
        await b.place_order(req("m", Side.BUY, OrderType.MARKET))
        await b.request_status("m")
        return await collect(b)

    rejected = run(go(FaultPlan(reject_prob=1.0)))
    assert of(rejected, OrderRejected) and not of(rejected, Execution)
    lost = run(go(FaultPlan(lost_ack_prob=1.0, lost_execution_prob=1.0)))
    assert not of(lost, OrderAccepted) and not of(lost, Execution)
    (status,) = of(lost, OrderStatus)
    assert status.state is BrokerOrderState.FILLED and len(status.executions) == 1  # recoverable
    dup = run(go(FaultPlan(duplicate_execution_prob=1.0)))
    ids = [e.execution_id for e in of(dup, Execution)]
    assert len(ids) == 2 and len(set(ids)) == 1


def test_partial_fills_fill_the_rest_on_later_prints() -> None:
    async def go() -> list[object]:
        b = SimBroker(tape([7000] * 20), TIERED, faults=FaultPlan(partial_fill_prob=1.0, seed=3))
        await b.connect()
        await b.next_event()
        await b.place_order(req("m", Side.SELL, OrderType.MARKET, qty=4))
        return await collect(b)

    fills = of(run(go()), Execution)
    assert len(fills) >= 2 and sum(f.qty for f in fills) == 4


def test_disconnect_drops_events_refuses_requests_and_the_book_keeps_working() -> None:
    async def go() -> tuple[list[object], BrokerUnavailable | None, dict[str, int]]:
        b = SimBroker(
            tape([7000] * 5 + [6990] * 10), TIERED, faults=FaultPlan(disconnects=((T0 + 2, T0 + 8),))
        )
        await b.connect()
        await b.next_event()
        await b.place_order(req("a", Side.BUY, limit=6995))
        events = await collect(b, until=T0 + 5)
        error = None
        try:
            await b.place_order(req("b", Side.BUY, OrderType.MARKET))
        except BrokerUnavailable as exc:
            error = exc
        events += await collect(b)
        return events, error, await b.positions()

    events, error, positions = run(go())
    changes = [e.connected for e in of(events, ConnectionChanged)]
    assert changes == [False, True] and error is not None
    assert not of(events, Execution)  # filled at T0+5 while down: the report is lost
    assert positions == {"CL": 1}
    ticks = of(events, Tick)
    assert all(not (T0 + 2 <= t.ts < T0 + 8) for t in ticks)


def test_stale_quotes_repeat_the_old_quote_and_gaps_move_every_price() -> None:
    async def go() -> list[object]:
        plan = FaultPlan(stale_quotes=((T0 + 3, T0 + 6),), price_gaps=((T0 + 8, 50),))
        b = SimBroker(tape([7000 + i for i in range(12)]), TIERED, faults=plan)
        await b.connect()
        return await collect(b)

    ticks = of(run(go()), Tick)
    assert [t.last for t in ticks[2:7]] == [7002, 7002, 7002, 7002, 7006]
    assert ticks[3].ts == ticks[2].ts  # a stale quote keeps its time
    assert ticks[8].last == 7008 + 50


def test_real_pace_follows_the_wall_clock() -> None:
    async def go() -> float:
        b = SimBroker(tape([7000] * 5, step=0.05), TIERED, pace=1.0)
        await b.connect()
        await b.next_event()  # the first print
        start = time.perf_counter()
        ticks = await collect(b, until=T0 + 0.3)
        assert len(ticks) == 4
        return time.perf_counter() - start

    assert 0.19 <= run(go()) < 1.0  # 4 more prints 50 ms apart, then the clock runs to T0+0.3, in real time
    with pytest.raises(ValueError, match="pace"):
        SimBroker(tape([7000]), TIERED, pace=0)


def test_until_advances_the_clock_without_events() -> None:
    async def go() -> tuple[object, float]:
        b = SimBroker(tape([7000, 7000], step=30.0), TIERED)
        await b.connect()
        await b.next_event()
        ev = await b.next_event(until=T0 + 10)
        return ev, b.now()

    ev, now = run(go())
    assert ev is None and now == T0 + 10


def test_intra_bar_path_and_spread_model_from_bars() -> None:
    minute0 = int(T0 // 60)
    bars = BarSeries.from_arrays(
        "MCL",
        [minute0, minute0 + 1],
        [70.00, 70.02],
        [70.03, 70.02],
        [69.99, 69.97],
        [70.02, 69.98],
        [40, 10],
    )
    t = MarketTape.from_bars(bars, contract("MCL"), spread_ticks=1)
    first = t.last[t.time < (minute0 + 1) * 60].tolist()
    assert first == [7000, 6999, 7000, 7001, 7002, 7003, 7002]  # up bar: open, low, high, close
    second = t.last[t.time >= (minute0 + 1) * 60].tolist()
    assert second[:2] == [7002, 7001] and second[-1] == 6998 and min(second) == 6997  # down bar: high first
    up = np.diff(t.last) > 0
    assert (t.ask[1:][up] == t.last[1:][up]).all() and (t.bid[1:][~up] == t.last[1:][~up]).all()
    assert ((t.ask - t.bid) == 1).all()
    assert t.time[0] == minute0 * 60 and np.all(np.diff(t.time) > 0)
