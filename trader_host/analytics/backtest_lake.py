"""A backtest's records written as the lake holds a live session's: the ledger's fills and round trips, the
trader's order outcomes and risk events, the bars, and the regime source's decision at every 5-minute
boundary, so that the same queries and the same report serve a backtest, the local cloud and Athena.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from regime.bar_series import BarSeries
from regime.contracts import Fill, OrderOutcome, Regime, RegimeItem, RiskEvent, RoundTrip, TradeRecord
from trader_host.analytics.writer import write_records
from trading_engine.regime_source import RegimeSource

DECISION_MINUTES = 5


def decisions(series: BarSeries, source: RegimeSource, version: str) -> list[RegimeItem]:
    """The regime the source gave at each 5-minute boundary of the bars, as regime items.

    A replayed source has no model votes: the chosen hemisphere gets the full confidence (3, all models
    agreeing), so P&L by confidence shows one bucket per regime.
    """
    if len(series) == 0:
        return []
    first = int(series.minute[0]) // DECISION_MINUTES * DECISION_MINUTES + DECISION_MINUTES
    last = int(series.minute[-1]) + 1
    out: list[RegimeItem] = []
    for minute in range(first, last + 1, DECISION_MINUTES):
        end = datetime.fromtimestamp(minute * 60, tz=UTC)
        regime = source.regime_at(minute * 60.0)
        out.append(
            RegimeItem(
                symbol=series.symbol,
                regime=regime,
                window_end=end,
                computed_at=end,
                valid_until=end + timedelta(minutes=DECISION_MINUTES),
                model_version=version,
                trend_vote=regime is Regime.TREND,
                trend_confidence=3.0 if regime is Regime.TREND else 0.0,
                range_vote=regime is Regime.RANGE,
                range_confidence=3.0 if regime is Regime.RANGE else 0.0,
                reason=f"backtest regime source {version}",
            )
        )
    return out


def write_backtest_lake(
    root: Path,
    fills: Sequence[Fill],
    round_trips: Sequence[RoundTrip],
    series: BarSeries,
    source: RegimeSource,
    version: str,
    records: Iterable[TradeRecord] = (),
) -> None:
    """Everything of one backtest into a lake folder; `records`: the trader's (`take_records()`), of which
    the order outcomes and risk events are written (`fills` and `round_trips`: the trader's)."""
    kept = list(records)
    write_records(
        root,
        fills=fills,
        round_trips=round_trips,
        regimes=decisions(series, source, version),
        bars=series.to_bars(),
        orders=[r for r in kept if isinstance(r, OrderOutcome)],
        risk_events=[r for r in kept if isinstance(r, RiskEvent)],
    )
