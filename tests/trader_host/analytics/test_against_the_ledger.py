"""The statistics table from the lake against the host's own ledger on a simulated session, to the cent.

A synthetic two-day session runs through the live code path (SimBroker + TradingSession + Trader, via
run_backtest); its fills, round trips and bars are written as Firehose would, then a third of the records are
delivered again and a malformed line is added. The SQL must still agree with the ledger exactly.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from regime.contracts import OrderOutcome, RiskEvent, Role, RoundTrip
from regime.synthetic import synthetic_days
from trader_host.analytics.lake import FolderLake
from trader_host.analytics.local_athena import LocalAthena
from trader_host.analytics.writer import write_lines, write_records
from trading_engine.backtest.backtest_results import BacktestResult, summarize
from trading_engine.backtest.regime_choices import regime_source
from trading_engine.backtest.runner import run_backtest
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import load_config
from trading_engine.fees import fee_schedule
from trading_engine.instruments import SYNTHETIC_SESSION, contract
from trading_engine.trader import Trader

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Trader, BacktestResult, LocalAthena]:
    market = synthetic_days(2, seed=11)
    tape = MarketTape.from_synthetic(market)
    spec = contract("CL").with_session(SYNTHETIC_SESSION)
    source = regime_source("truth", market.bars, truth=market.truth)
    _, trader = run_backtest("truth", tape, spec, load_config(), fee_schedule("tiered"), source)
    fills, trips = trader.fills(), trader.round_trips()
    assert len(trips) > 20  # a real session, not a trivial one
    result = summarize("truth", trips, hours=tape.n_bars / 60.0)
    root = tmp_path_factory.mktemp("session-lake")
    records = trader.take_records()  # the order outcomes and risk events the session would have journaled
    orders = [r for r in records if isinstance(r, OrderOutcome)]
    events = [r for r in records if isinstance(r, RiskEvent)]
    write_records(
        root,
        fills=fills,
        round_trips=trips,
        bars=market.bars.to_bars(),
        orders=orders,
        risk_events=events,
    )
    # At-least-once delivery: every third record again, in another object; and one torn line.
    write_records(
        root,
        fills=fills[::3],
        round_trips=trips[::3],
        orders=orders[::3],
        risk_events=events,
        name="redelivered",
    )
    last = trips[-1].exit_ts
    write_lines(root, "round_trips", [(last, '{"trip_id": "rt-torn", "symbol": "CL", "pnl_ticks": ')], "torn")
    athena = LocalAthena(FolderLake(root))
    assert athena.count("round_trips") > len(trips)  # the duplicates are really there
    assert athena.malformed["round_trips"] == 1
    return trader, result, athena


def test_statistics_table_equals_the_ledger(session: tuple[Trader, BacktestResult, LocalAthena]) -> None:
    trader, result, athena = session
    (row,) = athena.run("trade_statistics").records()
    assert (row["round_trips"], row["wins"], row["losses"], row["scratches"]) == (
        result.trades,
        result.wins,
        result.losses,
        result.scratches,
    )
    # Money to the cent (exactly: both sides are Decimal).
    assert (row["gross_usd"], row["fees_usd"], row["net_usd"]) == (
        result.gross_usd,
        result.fees_usd,
        result.net_usd,
    )
    assert row["net_usd"] == trader.realised_net_usd()
    assert row["avg_win_ticks"] == pytest.approx(result.avg_win_ticks, abs=5e-5)
    assert row["avg_loss_ticks"] == pytest.approx(result.avg_loss_ticks, abs=5e-5)
    assert row["ticks_per_trip"] == pytest.approx(result.ticks_per_trip, abs=5e-5)
    assert row["round_turns_per_hour"] == pytest.approx(result.round_turns_per_hour, abs=5e-5)


def test_fees_of_the_fills_equal_the_ledgers(session: tuple[Trader, BacktestResult, LocalAthena]) -> None:
    trader, _, athena = session
    rows = athena.run("daily_fills").records()
    assert sum(r["fills"] for r in rows) == len(trader.fills())
    assert sum((r["commission_usd"] for r in rows), Decimal(0)) == trader.snapshot().fees_usd


def _trading_day(ts: datetime) -> date:
    return (ts.astimezone(NEW_YORK) + timedelta(hours=7)).date()


def test_daily_pnl_and_drawdown_equal_the_ledgers(
    session: tuple[Trader, BacktestResult, LocalAthena],
) -> None:
    trader, result, athena = session
    expected: dict[date, Decimal] = defaultdict(Decimal)
    trips: list[RoundTrip] = trader.round_trips()
    for trip in trips:
        expected[_trading_day(trip.exit_ts)] += trip.net_usd
    rows = athena.run("daily_pnl").records()
    assert {r["trading_day"]: r["net_usd"] for r in rows} == dict(expected)
    assert rows[-1]["equity_usd"] == result.net_usd
    assert rows[-1]["max_drawdown_usd"] == result.max_drawdown_usd


def test_order_fates_and_loss_limit_days_equal_the_traders(
    session: tuple[Trader, BacktestResult, LocalAthena],
) -> None:
    trader, _, athena = session
    orders = list(trader.recent_orders())[::-1]
    rows = athena.run("execution_quality").records()
    assert sum(r["orders"] for r in rows) == len(orders) and all(o.is_final for o in orders)
    for state in ("filled", "cancelled", "rejected"):
        assert sum(r[state] for r in rows) == sum(o.state.value == state for o in orders), state
    stale_entries = [o for o in orders if o.stale and o.role is Role.ENTRY]
    assert stale_entries  # the session really had some
    entry_rows = [r for r in rows if r["role"] == "entry"]
    assert sum(r["stale_cancelled"] for r in entry_rows) == sum(
        o.state.value == "cancelled" for o in stale_entries
    )
    assert sum(r["stale_filled_late"] for r in entry_rows) == sum(
        o.state.value == "filled" for o in stale_entries
    )
    days = athena.run("daily_pnl").records()
    assert sum(r["loss_limit_stop"] for r in days) == trader.snapshot().risk.loss_limit_days
