"""Property tests: the whole session (Trader + SimBroker) over random tick streams and fault schedules.

Whatever the market and whatever goes wrong, the exchange's position never exceeds the limit, every order
reaches exactly one final state, the host's position agrees with the exchange's, and realised P&L equals
the sum of the round trips (which carry every fee).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regime.contracts import RoundTrip
from trading_engine.broker.sim.faults import FaultPlan
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.broker.sim.sim_broker import SimBroker
from trading_engine.config import (
    STOP_EXIT_MODES,
    ExecutionConfig,
    HostConfig,
    RiskConfig,
    SimConfig,
    StopExit,
    StrategyConfig,
)
from trading_engine.execution.order import FINAL_STATES
from trading_engine.fees import TIERED
from trading_engine.instruments import SYNTHETIC_SESSION, contract
from trading_engine.regime_source import RegimeTimeline
from trading_engine.session import TradingSession
from trading_engine.trader import Trader

T0 = 1_767_866_400.0  # Thursday 2026-01-08 10:00 UTC: hours from the synthetic 21:00 break


def random_tape(steps: list[int], spread: list[int]) -> MarketTape:
    n = len(steps)
    t = T0 + np.arange(n, dtype=np.float64) * 0.5
    last = 7000 + np.cumsum(np.asarray(steps, dtype=np.int64))
    wide = np.asarray((spread * (n // len(spread) + 1))[:n], dtype=np.int64)
    bid = last - (wide > 1)
    minutes = (t // 60).astype(np.int64)
    um, first = np.unique(minutes, return_index=True)
    ends = np.append(first[1:], n) - 1
    h = np.maximum.reduceat(last, first)
    lo = np.minimum.reduceat(last, first)
    return MarketTape(
        "CL",
        t,
        bid,
        bid + wide,
        last,
        np.ones(n, dtype=np.int64),
        um,
        last[first],
        h,
        lo,
        last[ends],
        np.full(um.shape[0], 100, dtype=np.int64),
    )


def config(max_position: int, qty: int, stop_exit: StopExit = "passive") -> HostConfig:
    return HostConfig(
        strategy=StrategyConfig(
            lookback_bars=3, z_thresh=0.8, z_thresh_up=3.0, z_target=0.2, stop_offset_ticks=2
        ),
        execution=ExecutionConfig(
            order_qty=qty, fill_timeout_s=2.0, cancel_timeout_s=1.5, status_retry_s=1.0, stop_exit=stop_exit
        ),
        risk=RiskConfig(
            max_position=max_position,
            max_daily_loss_usd=1e9,
            max_orders_per_minute=30,
            shutdown_timeout_s=120.0,
        ),
        sim=SimConfig(ack_latency_s=0.3),
    )


windows = st.lists(
    st.tuples(st.floats(0, 400), st.floats(0.5, 30)).map(lambda w: (T0 + w[0], T0 + w[0] + w[1])),
    max_size=2,
).map(lambda ws: tuple(sorted(ws)))


@st.composite
def fault_plans(draw: st.DrawFn) -> FaultPlan:
    p = st.sampled_from([0.0, 0.1, 0.3, 1.0])
    disconnects = draw(windows)
    merged: list[tuple[float, float]] = []
    for a, b in disconnects:  # overlapping outages are one outage
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return FaultPlan(
        lost_ack_prob=draw(p),
        lost_execution_prob=draw(st.sampled_from([0.0, 0.2])),
        duplicate_execution_prob=draw(st.sampled_from([0.0, 0.3])),
        reject_prob=draw(st.sampled_from([0.0, 0.1, 0.5])),
        partial_fill_prob=draw(st.sampled_from([0.0, 0.5])),
        disconnects=tuple(merged),
        stale_quotes=draw(windows),
        price_gaps=tuple(
            (T0 + t, g)
            for t, g in draw(st.lists(st.tuples(st.floats(0, 400), st.integers(-15, 15)), max_size=2))
        ),
        seed=draw(st.integers(0, 1000)),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(st.integers(-3, 3), min_size=300, max_size=900),
    spread=st.lists(st.sampled_from([1, 1, 1, 2]), min_size=1, max_size=8),
    regimes=st.lists(st.integers(0, 2), min_size=1, max_size=12),
    faults=fault_plans(),
    max_position=st.integers(1, 3),
    qty=st.integers(1, 3),
    stop_exit=st.sampled_from(STOP_EXIT_MODES),
)
def test_session_invariants_under_random_markets_and_faults(
    steps: list[int],
    spread: list[int],
    regimes: list[int],
    faults: FaultPlan,
    max_position: int,
    qty: int,
    stop_exit: StopExit,
) -> None:
    qty = min(qty, max_position)
    tape = random_tape(steps, spread)
    cfg = config(max_position, qty, stop_exit)
    broker = SimBroker(tape, TIERED, cfg.sim, faults)
    trader = Trader(contract("CL").with_session(SYNTHETIC_SESSION), cfg)
    minutes = int(tape.bar_minute[-1] - tape.bar_minute[0]) + 1
    codes = np.asarray((regimes * (minutes // len(regimes) + 1))[:minutes], dtype=np.int8)
    session = TradingSession(broker, trader, RegimeTimeline(int(tape.bar_minute[0]), codes))
    asyncio.run(session.run())

    assert broker.engine.max_abs_position <= max_position  # the exchange's truth
    assert trader.max_abs_position <= max_position
    orders = list(trader.recent_orders())
    assert all(o.state in FINAL_STATES for o in orders), [o for o in orders if not o.is_final]
    assert not trader.working_orders()
    assert trader.position == broker.engine.net_position == 0  # flattened on shutdown, and reconciled
    trips = trader.round_trips()
    assert trader.realised_net_usd() == sum((t.net_usd for t in trips), start=trader.snapshot().fees_usd * 0)
    fees_in_trips = sum((t.fees_usd for t in trips), start=trader.snapshot().fees_usd * 0)
    assert fees_in_trips == trader.snapshot().fees_usd  # no fee forgotten
    fills = {f.execution_id for f in trader.fills()}
    assert len(fills) == len(trader.fills())  # each execution booked once
    sim_execs = {ex.execution_id for o in broker._orders.values() for ex in o.executions}
    assert fills == sim_execs  # and none missed, even the lost reports
    assert all(isinstance(t, RoundTrip) and t.qty >= 1 for t in trips)


def test_a_quiet_fault_free_session_trades_and_balances() -> None:
    rng = np.random.default_rng(5)
    tape = random_tape(rng.integers(-2, 3, 3000).tolist(), [1])
    cfg = replace(config(1, 1), sim=SimConfig(ack_latency_s=0.05))
    broker = SimBroker(tape, TIERED, cfg.sim)
    trader = Trader(contract("CL").with_session(SYNTHETIC_SESSION), cfg)
    minutes = tape.n_bars
    asyncio.run(
        TradingSession(
            broker, trader, RegimeTimeline(int(tape.bar_minute[0]), np.full(minutes, 2, dtype=np.int8))
        ).run()
    )
    assert len(trader.round_trips()) > 5
    assert trader.realised_net_usd() == sum(t.net_usd for t in trader.round_trips())
