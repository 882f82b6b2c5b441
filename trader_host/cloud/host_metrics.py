"""The host's CloudWatch metrics: their one definition (names, units, dimensions) and the sampler.

The names live here only: the metrics job publishes them, template.yaml's alarms and dashboard name them,
and the template test imports them from here to check that every alarm watches a metric the host really
sends. They go to the functions' namespace with the functions' `service` dimension, so one dashboard shows
the cloud and the host side by side. Those an alarm reads (PER_SYMBOL) are sent with PutMetricData under the
`symbol` dimension too, one custom metric per host; the others are EMF lines in the host's log, one metric
for the whole fleet and `symbol` a field Logs Insights queries (metric_log.py says why).

`HostMetricsSampler.sample` runs on the event loop (a few attribute reads, and only the latencies that are
new since the last sample): everything it reads is owned by the loop. The sending happens elsewhere.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from trader_host.cloud.regime_reader import DynamoRegimeReader

if TYPE_CHECKING:
    from trading_engine.session import TradingSession

NAMESPACE = "RegimeTrader"  # template.yaml's POWERTOOLS_METRICS_NAMESPACE
SERVICE = "regime-trader"  # template.yaml's POWERTOOLS_SERVICE_NAME (Powertools' default dimension)
REGIME_AGE_ALARM_S = 600  # the regime is stale past 10 minutes (a decision is due every 5)
MAX_VALUES_PER_DATUM = 150  # PutMetricData's limit on a datum's Values

Datum = dict[str, Any]  # one MetricData entry, as boto3 takes it


class HostMetric(StrEnum):
    """Every metric the host publishes."""

    HEARTBEAT = "HostHeartbeat"  # 1 per sample: its absence is what the "host silent" alarm sees
    REGIME_AGE = "HostRegimeAge"  # seconds since the held decision's window ended (only in session)
    FILLS = "HostFills"  # fills booked since the previous sample
    NET_PNL = "HostNetPnl"  # realised net P&L in USD, fees included
    REJECTS = "HostRejects"  # orders that ended rejected since the previous sample
    DISCONNECTS = "HostDisconnects"  # broker connection losses since the previous sample
    JOURNAL_BACKLOG = "HostJournalBacklog"  # journal bytes the lake has not acknowledged
    BAR_BACKLOG = "HostBarBacklog"  # bars not yet in Kinesis (queued in memory plus spooled on disk)
    TICK_TO_ORDER = "HostTickToOrderLatency"  # tick in to order sent, for the ticks that placed one
    METRICS_NOT_SENT = "HostMetricsNotSent"  # failed PutMetricData calls, sent once one gets through
    BROKER_NOTICES = "HostBrokerNotices"  # notices since the last sample (by name in the EMF line)


# The metrics template.yaml's host alarms read (a test keeps the two equal): the only per-symbol ones.
PER_SYMBOL = frozenset(
    {HostMetric.HEARTBEAT, HostMetric.REGIME_AGE, HostMetric.JOURNAL_BACKLOG, HostMetric.BAR_BACKLOG}
)

UNITS: dict[HostMetric, str] = {
    HostMetric.HEARTBEAT: "Count",
    HostMetric.REGIME_AGE: "Seconds",
    HostMetric.FILLS: "Count",
    HostMetric.NET_PNL: "None",
    HostMetric.REJECTS: "Count",
    HostMetric.DISCONNECTS: "Count",
    HostMetric.JOURNAL_BACKLOG: "Bytes",
    HostMetric.BAR_BACKLOG: "Count",
    HostMetric.TICK_TO_ORDER: "Microseconds",
    HostMetric.METRICS_NOT_SENT: "Count",
    HostMetric.BROKER_NOTICES: "Count",
}


def dimensions(symbol: str) -> list[dict[str, str]]:
    """The dimensions of every host metric (alarms must name exactly these)."""
    return [{"Name": "service", "Value": SERVICE}, {"Name": "symbol", "Value": symbol}]


class HostMetricsSampler:
    """Turns the session's counters into datums; counters become per-sample deltas."""

    def __init__(
        self,
        symbol: str,
        started_at: float,
        *,
        journal_backlog: Callable[[], int] | None = None,
        bar_backlog: Callable[[], int] | None = None,
        not_sent: Callable[[], int] = lambda: 0,
    ) -> None:
        self.symbol = symbol
        self.started_at = started_at  # broker time: with no decision yet, the regime is this old
        self.journal_backlog = journal_backlog
        self.bar_backlog = bar_backlog  # in-memory part only (no I/O here); the sender adds the spool
        self.not_sent = not_sent
        self.session: TradingSession | None = None
        self._seen: dict[HostMetric, int] = {}
        self._orders_seen = 0
        self._notices_seen: dict[str, int] = {}

    def attach(self, session: TradingSession) -> None:
        """The session to read (it is built after its jobs, this one among them)."""
        self.session = session
        self._orders_seen = session.tick_orders

    def sample(self, now: float, wall: datetime) -> list[Datum]:
        """The datums of one sample at broker time `now`, stamped `wall` (CloudWatch wants real time)."""
        session = self.session
        if session is None:
            raise RuntimeError("HostMetricsSampler.sample before attach(session)")
        snap = session.trader.snapshot()
        values: list[tuple[HostMetric, float]] = [
            (HostMetric.HEARTBEAT, 1.0),
            (HostMetric.FILLS, self._delta(HostMetric.FILLS, snap.fills)),
            (HostMetric.NET_PNL, float(snap.realised_net_usd)),
            (HostMetric.REJECTS, self._delta(HostMetric.REJECTS, snap.rejects)),
            (HostMetric.DISCONNECTS, self._delta(HostMetric.DISCONNECTS, snap.disconnects)),
            (HostMetric.METRICS_NOT_SENT, self._delta(HostMetric.METRICS_NOT_SENT, self.not_sent())),
        ]
        age = self.regime_age(session, now)
        if age is not None:
            values.append((HostMetric.REGIME_AGE, age))
        if self.journal_backlog is not None:
            values.append((HostMetric.JOURNAL_BACKLOG, float(self.journal_backlog())))
        if self.bar_backlog is not None:
            values.append((HostMetric.BAR_BACKLOG, float(self.bar_backlog())))
        datums = [self.datum(metric, wall, Value=value) for metric, value in values]
        return datums + self._latencies(session, wall) + self._notices(session, wall)

    def regime_age(self, session: TradingSession, now: float) -> float | None:
        """Seconds since the held decision's window ended, during the session only (None outside it, or
        when the regime is fixed by the operator rather than decided by the cloud)."""
        if not isinstance(session.regime, DynamoRegimeReader) or not session.trader.spec.session.is_open(now):
            return None
        item = session.regime.item
        since = item.window_end.timestamp() if item is not None else self.started_at
        return max(0.0, now - since)

    def datum(self, metric: HostMetric, wall: datetime, **value: Any) -> Datum:
        """One MetricData entry of `metric` (Value=..., or Values=/Counts=)."""
        return {
            "MetricName": metric.value,
            "Dimensions": dimensions(self.symbol),
            "Timestamp": wall,
            "Unit": UNITS[metric],
            **value,
        }

    def _notices(self, session: TradingSession, wall: datetime) -> list[Datum]:
        """The broker's notices (IB's codes, by name) counted since the last sample: the total under the
        host's dimensions (the dashboard's), and one datum per name with a `notice` dimension more. A broker
        that names none (the sim) sends nothing."""
        counts = getattr(session.broker, "notices", None)
        if not isinstance(counts, dict):
            return []
        out = []
        for name, total in sorted(counts.items()):
            new = total - self._notices_seen.get(name, 0)
            self._notices_seen[name] = total
            if new > 0:
                datum = self.datum(HostMetric.BROKER_NOTICES, wall, Value=float(new))
                datum["Dimensions"] = [*datum["Dimensions"], {"Name": "notice", "Value": name}]
                out.append(datum)
        if out:
            out.insert(0, self.datum(HostMetric.BROKER_NOTICES, wall, Value=sum(d["Value"] for d in out)))
        return out

    def _delta(self, metric: HostMetric, total: int) -> float:
        previous = self._seen.get(metric, 0)
        self._seen[metric] = total
        return float(max(0, total - previous))  # a counter never goes back; a restart starts from 0

    def _latencies(self, session: TradingSession, wall: datetime) -> list[Datum]:
        """The new tick-to-order latencies as whole microseconds, as Values/Counts (CloudWatch then has
        percentiles); only the entries added since the last sample are read."""
        latencies = session.tick_to_order_s
        new = min(session.tick_orders - self._orders_seen, len(latencies))
        self._orders_seen = session.tick_orders
        if new <= 0:
            return []
        counts = Counter(
            round(s * 1e6) for s in itertools.islice(latencies, len(latencies) - new, len(latencies))
        )
        pairs = sorted(counts.items())
        return [
            self.datum(
                HostMetric.TICK_TO_ORDER,
                wall,
                Values=[float(v) for v, _ in chunk],
                Counts=[float(c) for _, c in chunk],
            )
            for chunk in itertools.batched(pairs, MAX_VALUES_PER_DATUM)
        ]
