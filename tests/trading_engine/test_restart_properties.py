"""Property tests: random markets and fault schedules, with the host killed at random moments and restarted.

A kill is the process vanishing: nothing after it is written (not even a flatten), the last journal line may
be torn, and the broker keeps its books, its position and the orders left working. Each restart rebuilds the
trader from the journal and reconciles with the broker. Whatever happens, once a last run ends cleanly:
every execution the broker made is journaled exactly once (what the shipper forwards to the lake), every
journaled round trip is whole, the broker and the host are flat, and no order is left working.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.trading_engine.test_session_properties import config, fault_plans, random_tape
from trading_engine.broker.port import BrokerEvent
from trading_engine.broker.sim.faults import FaultPlan
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.broker.sim.sim_book import SimBook
from trading_engine.broker.sim.sim_broker import SimBroker
from trading_engine.fees import TIERED
from trading_engine.instruments import SYNTHETIC_SESSION, contract
from trading_engine.journal.trade_journal import TradeJournal
from trading_engine.regime_source import RegimeTimeline
from trading_engine.restart import restore
from trading_engine.session import TradingSession
from trading_engine.trader import Trader


class Killed(BaseException):
    """SIGKILL: not an Exception, so no handler of the session runs its shutdown."""


class KillableBroker(SimBroker):
    """The sim broker whose client process dies after `kill_after` events."""

    def __init__(self, *args: Any, kill_after: int | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kill_after = kill_after
        self.delivered = 0

    async def next_event(self, until: float | None = None) -> BrokerEvent | None:
        self.delivered += 1
        if self.kill_after is not None and self.delivered > self.kill_after:
            raise Killed()
        return await super().next_event(until)


def one_run(
    tape: MarketTape,
    faults: FaultPlan,
    regimes: RegimeTimeline,
    state: Path,
    run: int,
    kill_after: int | None,
) -> tuple[KillableBroker, Trader, TradingSession]:
    cfg = config(2, 1)
    book = SimBook(state / "sim.book", "random tape")
    broker = KillableBroker(tape, TIERED, cfg.sim, faults, book=book, kill_after=kill_after)
    journal = TradeJournal(state / "CL.journal")
    trader = Trader(contract("CL").with_session(SYNTHETIC_SESSION), cfg, id_prefix=f"r{run}-")
    restore(trader, journal.read()[0], broker.now())
    session = TradingSession(broker, trader, regimes, records=journal, live=True)
    try:
        asyncio.run(session.run())
    except Killed:
        pass
    finally:
        journal.close()
        book.close()
    return broker, trader, session


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(st.integers(-3, 3), min_size=300, max_size=900),
    regimes=st.lists(st.integers(0, 2), min_size=1, max_size=12),
    faults=fault_plans(),
    kills=st.lists(st.tuples(st.integers(1, 1500), st.integers(0, 40)), max_size=3),
)
def test_kills_and_restarts_lose_no_fill_and_leave_no_order(
    steps: list[int],
    regimes: list[int],
    faults: FaultPlan,
    kills: list[tuple[int, int]],
    tmp_path_factory: Any,
) -> None:
    state = tmp_path_factory.mktemp("restart")
    tape = random_tape(steps, [1, 1, 2])
    minutes = int(tape.bar_minute[-1] - tape.bar_minute[0]) + 1
    codes = np.asarray((regimes * (minutes // len(regimes) + 1))[:minutes], dtype=np.int8)
    timeline = RegimeTimeline(int(tape.bar_minute[0]), codes)
    for run, (kill_after, torn) in enumerate(kills, start=1):
        killed, _, _ = one_run(tape, faults, timeline, state, run, kill_after)
        event(f"killed with the broker {'flat' if killed.engine.net_position == 0 else 'in a position'}")
        journal = state / "CL.journal"
        if torn and journal.exists() and journal.stat().st_size > torn:
            with journal.open("r+b") as fh:  # the kill caught the last append half written
                fh.truncate(journal.stat().st_size - torn)
    broker, trader, session = one_run(tape, faults, timeline, state, len(kills) + 1, None)

    assert session.failure is None, session.failure
    assert trader.position == broker.engine.net_position == 0
    working = [o for o in broker._orders.values() if o.state.value == "working"]
    assert not working, working
    entries = TradeJournal(state / "CL.journal").read()[0]
    journaled = [e.record_id for e in entries if e.kind == "fill"]
    broker_execs = {ex.execution_id for o in broker._orders.values() for ex in o.executions}
    assert len(journaled) == len(set(journaled)) and set(journaled) == broker_execs
    trips = [e.record for e in entries if e.kind == "round_trip"]
    in_trips = [x for t in trips for x in (*t["entry_execution_ids"], *t["exit_execution_ids"])]
    assert len({t["trip_id"] for t in trips}) == len(trips)
    assert set(in_trips) == broker_execs  # every execution is in one whole round trip: none torn away
