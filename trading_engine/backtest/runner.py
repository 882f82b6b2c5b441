"""run_backtest: one regime source over one market, through the live code path on a virtual clock."""

from __future__ import annotations

import asyncio
import logging
import time

from trading_engine.backtest.backtest_results import BacktestResult, summarize
from trading_engine.broker.sim.faults import NO_FAULTS, FaultPlan
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.broker.sim.sim_broker import SimBroker
from trading_engine.config import HostConfig
from trading_engine.fees import FeeSchedule
from trading_engine.instruments import ContractSpec
from trading_engine.regime_source import RegimeSource
from trading_engine.session import TradingSession
from trading_engine.trader import Trader

log = logging.getLogger(__name__)


def run_backtest(
    name: str,
    tape: MarketTape,
    spec: ContractSpec,
    config: HostConfig,
    fees: FeeSchedule,
    regime: RegimeSource,
    faults: FaultPlan = NO_FAULTS,
) -> tuple[BacktestResult, Trader]:
    """Replay `tape` through SimBroker + TradingSession + Trader; returns the figures and the trader."""
    broker = SimBroker(tape, fees, config.sim, faults)
    trader = Trader(spec, config)
    session = TradingSession(broker, trader, regime)
    start = time.perf_counter()
    asyncio.run(session.run())
    seconds = time.perf_counter() - start
    trips, snap = trader.round_trips(), trader.snapshot()
    if snap.realised_net_usd != sum(t.net_usd for t in trips):
        raise AssertionError(f"{name}: realised P&L does not match the round trips")  # never: but say so
    log.info(
        "backtest %s: %d ticks, %d bars in %.1fs, %d round trips",
        name,
        broker.ticks_replayed,
        broker.bars_replayed,
        seconds,
        len(trips),
    )
    result = summarize(
        name,
        trips,
        hours=tape.n_bars / 60.0,
        ticks=broker.ticks_replayed,
        bars=broker.bars_replayed,
        seconds=seconds,
        loss_limit_days=snap.risk.loss_limit_days,
    )
    return result, trader
