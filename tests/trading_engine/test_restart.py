"""Restart: a trader rebuilt from its journal, then an open position flattened at market or adopted."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from regime.contracts import Fill, OrderOutcome, Regime, RiskEvent, RoundTrip, TradeRecord
from tests.trading_engine.test_trader import CONFIG, T0, enter_long, fill, tick, trader
from trading_engine.broker.port import OrderType
from trading_engine.config import HostConfig
from trading_engine.execution.commands import PlaceOrder
from trading_engine.journal.trade_journal import JournalEntry, kind_of
from trading_engine.restart import restore


def journal_of(records: Sequence[TradeRecord]) -> list[JournalEntry]:
    return [JournalEntry(k, kind_of(r), json.loads(r.to_json())) for k, r in enumerate(records)]


def first_run(config: HostConfig = CONFIG) -> list[TradeRecord]:
    """A losing round trip, then a long position left open: what the journal holds at the kill."""
    tr = trader(config)
    cmd = enter_long(tr)
    exit_cmd = next(c for c in tr.on_tick(tick(1, 991), T0 + 1, Regime.RANGE) if isinstance(c, PlaceOrder))
    fill(tr, exit_cmd, 1.5, 991)
    assert tr.position == 0 and cmd
    tr._executor._seq = 10  # white-box: the next order gets another id, as a new process's would
    enter_long(tr)
    return tr.take_records()


def test_the_journal_gives_back_the_position_and_the_days_realised_loss() -> None:
    records = first_run()
    fresh = trader()
    summary = restore(fresh, journal_of(records), T0 + 60)
    assert fresh.position == 1 and summary.fills == 3
    trips = [r for r in records if isinstance(r, RoundTrip)]
    fees = sum((r.commission_usd for r in records if isinstance(r, Fill)), start=Decimal(0))
    assert summary.day_net_usd == trips[0].gross_usd - fees == fresh.realised_net_usd()
    assert fresh.take_records() == []  # journaled records are not sent again


def test_order_outcomes_and_risk_events_in_the_journal_change_nothing_at_a_restart() -> None:
    tr = trader()
    enter_long(tr)
    tr.kill(T0 + 1, "kill switch")
    events = [r for r in tr.take_records() if isinstance(r, RiskEvent)]  # a kill, journaled by another run
    records = first_run() + events
    lake_only = [r for r in records if isinstance(r, OrderOutcome | RiskEvent)]
    assert {type(r) for r in lake_only} == {OrderOutcome, RiskEvent}
    with_them, without = trader(), trader()
    summary = restore(with_them, journal_of(records), T0 + 60)
    assert summary == restore(without, journal_of([r for r in records if r not in lake_only]), T0 + 60)
    assert with_them.take_records() == [] and with_them.kill_reason is None  # a new run is not killed


def test_a_round_trip_torn_out_of_the_journal_is_recorded_again() -> None:
    records = first_run()
    torn = [r for r in records if not isinstance(r, RoundTrip)]
    fresh = trader()
    restore(fresh, journal_of(torn), T0 + 60)
    (again,) = fresh.take_records()
    assert isinstance(again, RoundTrip) and again.trip_id == next(
        r.trip_id for r in records if isinstance(r, RoundTrip)
    )


def test_an_open_position_is_flattened_at_market_by_default() -> None:
    fresh = trader()
    restore(fresh, journal_of(first_run()), T0 + 60)
    fresh.on_restart_position()
    (cmd,) = [c for c in fresh.on_tick(tick(61, 1000), T0 + 61, Regime.NOTHING) if isinstance(c, PlaceOrder)]
    assert cmd.request.order_type is OrderType.MARKET and cmd.request.qty == 1


def test_an_adopted_position_keeps_trading_with_its_stop_rearmed_from_the_current_price() -> None:
    config = replace(CONFIG, risk=replace(CONFIG.risk, restart_position="adopt"))
    fresh = trader(config)
    restore(fresh, journal_of(first_run(config)), T0 + 60)
    fresh.on_restart_position()
    assert fresh.on_tick(tick(61, 997), T0 + 61, Regime.NOTHING) == []  # kept: nothing sent
    trip = fresh.snapshot().open_trip
    assert trip is not None and trip.entry_price == 997 and trip.regime is Regime.RANGE
    stop = config.strategy.stop_offset_ticks
    (cmd,) = [
        c for c in fresh.on_tick(tick(62, 997 - stop), T0 + 62, Regime.NOTHING) if isinstance(c, PlaceOrder)
    ]
    assert cmd.request.qty == 1  # the re-armed trailing stop closes it


def test_a_fill_line_lost_mid_journal_is_rebuilt_from_its_intact_round_trip_not_booked_again() -> None:
    # The red team (22.2): one digit of a fill's price changed, the line was quarantined, the restart booked
    # that execution again from the broker and wrote a second round trip (exit before entry) beside the
    # intact first: the lake said 3 trips / 31.48 USD, the host 2 / 14.32.
    records = first_run()
    whole = trader()
    restore(whole, journal_of(records), T0 + 60)
    fills = [r for r in records if isinstance(r, Fill)]
    for lost in fills[:2]:  # the first trip's entry, then its exit
        fresh = trader()
        summary = restore(fresh, journal_of([r for r in records if r is not lost]), T0 + 60)
        assert fresh.take_records() == []  # no phantom round trip
        assert (fresh.position, summary.day_net_usd) == (1, whole.realised_net_usd())
        assert fresh.round_trips() == whole.round_trips()
        rebuilt = next(f for f in fresh.fills() if f.execution_id == lost.execution_id)
        assert (rebuilt.side, rebuilt.qty, rebuilt.price, rebuilt.commission_usd, rebuilt.ts) == (
            lost.side, lost.qty, lost.price, lost.commission_usd, lost.ts
        )  # fmt: skip
        assert fresh.has_seen(lost.execution_id)  # the broker's report of it is not booked again
