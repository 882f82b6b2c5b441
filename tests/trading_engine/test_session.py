"""TradingSession: the kill switch halts and flattens mid-session; bars and records reach their sinks."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from regime.contracts import (
    Bar,
    ExitReason,
    Fill,
    OrderOutcome,
    Regime,
    RiskEvent,
    RiskEventKind,
    RoundTrip,
    TradeRecord,
)
from regime.synthetic import synthetic_days
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.broker.sim.sim_book import SimBook
from trading_engine.broker.sim.sim_broker import SimBroker
from trading_engine.config import HostConfig, RiskConfig, StrategyConfig
from trading_engine.fees import TIERED
from trading_engine.instruments import SYNTHETIC_SESSION, contract
from trading_engine.journal.trade_journal import TradeJournal
from trading_engine.regime_source import FixedRegime, RegimeTimeline
from trading_engine.restart import restore
from trading_engine.session import TradingSession
from trading_engine.trader import Trader

CONFIG = HostConfig(risk=RiskConfig(max_daily_loss_usd=1e6))


class KillAt:
    """An operator who pulls the switch at a given time."""

    poll_interval_s = 5.0

    def __init__(self, at: float) -> None:
        self.at = at
        self.polls = 0
        self.state = False

    def engaged(self, now: float) -> bool:
        self.polls += 1
        self.state = now >= self.at
        return self.state


class Collect:
    batch_size = 10_000
    interval_s = 1e9

    def __init__(self) -> None:
        self.records: list[TradeRecord] = []
        self.bars: list[Bar] = []
        self.flushes = 0

    def put(self, records: list[TradeRecord]) -> None:
        self.records += records

    def publish(self, bar: Bar) -> None:
        self.bars.append(bar)

    def pending(self) -> int:
        return 0

    def flush(self) -> None:
        self.flushes += 1


def test_kill_switch_mid_session_flattens_and_stops() -> None:
    market = synthetic_days(1, seed=3)
    tape = MarketTape.from_synthetic(market)
    trader = Trader(contract("CL").with_session(SYNTHETIC_SESSION), CONFIG)
    broker = SimBroker(tape, TIERED, CONFIG.sim)
    # Kill while a position is open: find one in a dry run first.
    dry = Trader(contract("CL").with_session(SYNTHETIC_SESSION), CONFIG)
    asyncio.run(TradingSession(SimBroker(tape, TIERED, CONFIG.sim), dry, FixedRegime(Regime.TREND)).run())
    first = dry.round_trips()[3]
    kill_at = (first.entry_ts.timestamp() + first.exit_ts.timestamp()) / 2
    switch, sink = KillAt(kill_at), Collect()
    session = TradingSession(
        broker,
        trader,
        FixedRegime(Regime.TREND),
        kill_switch=switch,
        records=sink,
        bars=sink,
        wall_clock_jobs=False,  # this operator acts on the market's clock
    )
    asyncio.run(session.run())
    trips = trader.round_trips()
    assert trips[-1].exit_reason is ExitReason.KILL and trader.is_idle
    assert all(t.entry_ts.timestamp() < kill_at for t in trips)  # nothing opened after the kill
    assert broker.now() < kill_at + 60  # and the session stopped
    assert switch.polls > 10
    assert [r for r in sink.records if isinstance(r, RoundTrip)] == trips
    assert len([r for r in sink.records if isinstance(r, Fill)]) == len(trader.fills())
    # The kill is a risk event, and every order the session placed ended in one outcome, journaled.
    assert [r.kind for r in sink.records if isinstance(r, RiskEvent)] == [RiskEventKind.KILL]
    ended = [r.order_id for r in sink.records if isinstance(r, OrderOutcome)]
    assert sorted(ended) == sorted(o.order_id for o in trader.recent_orders())
    assert sink.bars and sink.bars[0].symbol == "CL" and sink.flushes == 2


class FillsDisk(TradeJournal):
    """A real journal whose disk fills up (the kernel's /dev/full answers ENOSPC) once a position is open."""

    full = False

    def put(self, records: list[TradeRecord]) -> None:
        if self.full:
            self._fh.close()
            self._fh = open("/dev/full", "ab")  # noqa: SIM115 - the journal closes it
        super().put(records)
        self.full = any(isinstance(r, Fill) and r.role == "entry" for r in records)


def test_a_full_disk_flattens_halts_and_loses_no_fill(tmp_path: Path) -> None:
    market = synthetic_days(1, seed=3)
    tape = MarketTape.from_synthetic(market)
    spec = contract("CL").with_session(SYNTHETIC_SESSION)
    book = SimBook(tmp_path / "sim.book", "seed 3")
    broker = SimBroker(tape, TIERED, CONFIG.sim, book=book)
    journal = FillsDisk(tmp_path / "CL.journal")
    trader = Trader(spec, CONFIG, id_prefix="r1-")
    session = TradingSession(broker, trader, FixedRegime(Regime.TREND), records=journal, live=True)
    asyncio.run(session.run())
    assert session.failure is not None and "journal write failed" in session.failure
    assert trader.is_idle and broker.engine.net_position == 0  # flattened at the broker
    assert trader.kill_reason is not None and len(trader.round_trips()) == 1  # halted at once
    journaled = {e.record_id for e in TradeJournal(tmp_path / "CL.journal").read()[0] if e.kind == "fill"}
    held = {r.execution_id for r in session.unjournaled if isinstance(r, Fill)}
    assert len(journaled) == 1 and held and journaled | held == {f.execution_id for f in trader.fills()}
    # The next start books what the full disk kept out of the journal, from the broker's own books.
    restarted = Trader(spec, CONFIG, id_prefix="r2-")
    journal2 = TradeJournal(tmp_path / "CL.journal")
    restore(restarted, journal2.read()[0], 0.0)
    broker2 = SimBroker(tape, TIERED, CONFIG.sim, book=SimBook(tmp_path / "sim.book", "seed 3"))
    session2 = TradingSession(broker2, restarted, FixedRegime(Regime.NOTHING), records=journal2, live=True)
    asyncio.run(session2.run())
    after = {e.record_id for e in TradeJournal(tmp_path / "CL.journal").read()[0] if e.kind == "fill"}
    assert after == {ex.execution_id for o in broker2._orders.values() for ex in o.executions}
    assert session2.failure is None and restarted.position == 0


def test_fills_carry_what_execution_quality_needs() -> None:
    tape = MarketTape.from_synthetic(synthetic_days(1, seed=3))
    trader = Trader(contract("CL").with_session(SYNTHETIC_SESSION), CONFIG)
    asyncio.run(TradingSession(SimBroker(tape, TIERED, CONFIG.sim), trader, FixedRegime(Regime.RANGE)).run())
    fills = trader.fills()
    assert fills and all(f.signal_ts is not None and f.signal_ts <= f.ts for f in fills)
    assert all(
        f.signal_price is not None and f.signal_price == f.signal_price.quantize(Decimal("0.01"))
        for f in fills
    )
    assert {f.order_type for f in fills} == {"limit", "market"}  # stale exits went to market
    acked = [f for f in fills if f.ack_ts is not None]
    assert acked and all(
        (f.ack_ts - f.signal_ts).total_seconds() == pytest.approx(CONFIG.sim.ack_latency_s, abs=2e-6)
        for f in acked
        if f.signal_ts is not None and f.ack_ts is not None
    )
    assert json.loads(fills[0].to_json())["order_type"] in ("limit", "market")


def test_the_session_hands_the_decisions_confidence_to_the_strategy() -> None:
    """strategy.min_confidence: the same range decisions, traded when confident enough, not otherwise."""
    market = synthetic_days(1, seed=3)
    first, minutes = int(market.bars.minute[0]), len(market.bars) + 2
    codes = np.full(minutes, 2, dtype=np.int8)  # range all day
    config = HostConfig(risk=CONFIG.risk, strategy=StrategyConfig(min_confidence=2.0))
    trips = []
    for confidence in (1.9, 2.0):
        timeline = RegimeTimeline(first, codes, np.full(minutes, confidence))
        trader = Trader(contract("CL").with_session(SYNTHETIC_SESSION), config)
        tape = MarketTape.from_synthetic(market)
        asyncio.run(TradingSession(SimBroker(tape, TIERED, config.sim), trader, timeline).run())
        trips.append(len(trader.round_trips()))
    assert trips[0] == 0 and trips[1] > 0
