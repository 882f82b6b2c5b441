"""A small lake whose query answers were worked out by hand (see test_queries.py for the arithmetic).

CL (0.01 tick, 10 USD a tick), tiered fees 1.42 USD a side. Five round trips:

| trip | side | qty | regime | entry (UTC) | exit  | prices         | reason          | ticks | net     |
| T1   | BUY  | 1   | range  | 01-15 14:00:10 | 14:03 | 60.00 -> 60.03 | target       | +3    | 27.16   |
| T2   | SELL | 1   | trend  | 01-15 14:10 | 14:12 | 60.10 -> 60.14 | trail           | -4    | -42.84  |
| T3   | BUY  | 1   | range  | 01-15 15:06 | 15:07 | 60.20 -> 60.20 | stale-to-market | 0     | -2.84   |
| T4   | SELL | 2   | trend  | 01-16 15:00 | 15:02 | 61.00 -> 60.95 | trail           | +10   | 94.32   |
| T5   | SELL | 1   | trend  | 01-20 16:00 | 16:30 | 61.00 -> 61.29 | flatten         | -29   | -292.84 |

Gross is ticks * 10 USD, fees 2.84 USD a contract (5.68 for T4).

Bars: 90 one-minute CL bars 2026-01-15 14:00..15:29, flat at 60.00, rising 60.01..60.05 over 14:40..14:44,
then flat at 60.05. Decisions (window_end; votes trend/range; realised labels trend/range):
v1 14:20 range (F/T; F/T), 14:40 range (F/T; T/F), 15:00 trend (T/F; F/T), 15:05 range conf 2.3 (F/T; F/T),
15:28 nothing (unlabelled: the bars stop at 15:29); v2 14:30 nothing (F/F; F/T); v3 01-16 14:55 trend
conf 2.6, computed by a clock far from the market's (as in the demo: wall clock against a virtual day), and
T4's entry fill carries its key: only the key finds it.

Orders (one outcome each; every fill's order is among them). Entry limits: o1a..o5a filled, o4a (SELL 2,
01-16 14:59:54) only after it went stale (its cancel was confirmed first: a revision-0 record says cancelled,
revision 1 filled; only the revision may count); oX1 (01-15 14:30) stale and cancelled; oX2 (15:20) rejected
by the broker; oX3 (01-16 16:00) cancelled by the kill, not stale. Exit limits: o1b, o2b, o4b filled; o3s
(T3's target, 15:06:49) stale and cancelled, replaced by the market order o3b. Exit markets: o3b, o5b (T5's
flatten).

Risk events: a kill on 01-16 at 16:00:02 (day net +94.32); the loss limit on 01-20 at 16:29:50 with T5
open at 61.30 (-30 ticks, -300 USD, plus its 1.42 entry fee: day net -301.42).

Dirt: T1, its entry fill, the 14:20 decision, one bar, oX1 and the loss-limit event are delivered twice (the
copy in another object and hour); one line of each record table but bars is malformed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from regime.contracts import (
    Bar,
    BarSource,
    ExitReason,
    Fill,
    OrderFinalState,
    OrderOutcome,
    Regime,
    RegimeItem,
    RiskEvent,
    RiskEventKind,
    Role,
    RoundTrip,
    Side,
)
from trader_host.analytics.writer import write_lines, write_records

FEE = Decimal("1.42")


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-{text}").replace(tzinfo=UTC)


def _trip(
    n: int,
    side: Side,
    qty: int,
    regime: str,
    entry: str,
    exit_: str,
    prices: tuple[str, str],
    reason: ExitReason,
) -> tuple[RoundTrip, list[Fill]]:
    p_in, p_out = Decimal(prices[0]), Decimal(prices[1])
    ticks = int(side.sign * (p_out - p_in) / Decimal("0.01")) * qty
    fee = FEE * qty
    fills = [
        Fill(f"e{n}a", f"o{n}a", "CL", side, qty, p_in, at(entry), fee, Regime(regime), 2.1, Role.ENTRY),
        Fill(
            f"e{n}b",
            f"o{n}b",
            "CL",
            Side.SELL if side is Side.BUY else Side.BUY,
            qty,
            p_out,
            at(exit_),
            fee,
            Regime(regime),
            0.1,
            Role.EXIT,
        ),
    ]
    trip = RoundTrip(
        f"rt-e{n}a",
        "CL",
        side,
        qty,
        at(entry),
        at(exit_),
        p_in,
        p_out,
        Regime(regime),
        2.1,
        reason,
        ticks,
        Decimal(ticks * 10),
        fee * 2,
        (f"e{n}a",),
        (f"e{n}b",),
    )
    return trip, fills


def trips_and_fills() -> tuple[list[RoundTrip], list[Fill]]:
    specs = [
        (1, Side.BUY, 1, "range", "01-15T14:00:10", "01-15T14:03:00", ("60.00", "60.03"), ExitReason.TARGET),
        (2, Side.SELL, 1, "trend", "01-15T14:10:00", "01-15T14:12:00", ("60.10", "60.14"), ExitReason.TRAIL),
        (
            3,
            Side.BUY,
            1,
            "range",
            "01-15T15:06:00",
            "01-15T15:07:00",
            ("60.20", "60.20"),
            ExitReason.STALE_TO_MARKET,
        ),
        (4, Side.SELL, 2, "trend", "01-16T15:00:00", "01-16T15:02:00", ("61.00", "60.95"), ExitReason.TRAIL),
        (
            5,
            Side.SELL,
            1,
            "trend",
            "01-20T16:00:00",
            "01-20T16:30:00",
            ("61.00", "61.29"),
            ExitReason.FLATTEN,
        ),
    ]
    trips: list[RoundTrip] = []
    fills: list[Fill] = []
    for spec in specs:
        trip, pair = _trip(*spec)
        trips.append(trip)
        fills.extend(pair)
    # Execution details on three fills: T1's entry and exit (limit), T3's exit (stale, went to market).
    by_id = {f.execution_id: f for f in fills}
    by_id["e1a"] = _with(by_id["e1a"], "01-15T14:00:09.900", "01-15T14:00:09.950", "60.01", "limit")
    by_id["e1b"] = _with(by_id["e1b"], "01-15T14:02:59.800", "01-15T14:02:59.850", "60.03", "limit")
    by_id["e3b"] = _with(by_id["e3b"], "01-15T15:06:54", "01-15T15:06:54.050", "60.22", "market")
    by_id["e4a"] = replace(by_id["e4a"], decision_window_end=at("01-16T14:55:00"))
    return trips, list(by_id.values())


def _with(fill: Fill, signal: str, ack: str, price: str, order_type: str) -> Fill:
    return replace(
        fill, signal_ts=at(signal), ack_ts=at(ack), signal_price=Decimal(price), order_type=order_type
    )


def bars() -> list[Bar]:
    out: list[Bar] = []
    start = at("01-15T14:00:00")
    for i in range(90):
        ts = start + timedelta(minutes=i)
        close = 60.0 if i < 40 else round(60.0 + 0.01 * min(i - 39, 5), 2)
        out.append(Bar("CL", ts, close, close, close, close, 100, BarSource.SIM))
    return out


def _decision(
    version: str,
    window_end: str,
    regime: Regime,
    trend: bool,
    rng: bool,
    conf: float = 2.0,
    computed_at: datetime | None = None,
) -> RegimeItem:
    end = at(window_end)
    return RegimeItem(
        symbol="CL",
        regime=regime,
        window_end=end,
        computed_at=computed_at or end + timedelta(seconds=5),
        valid_until=end + timedelta(minutes=5),
        model_version=version,
        trend_vote=trend,
        trend_confidence=conf if trend else 3.0 - conf,
        range_vote=rng,
        range_confidence=conf if rng else 3.0 - conf,
    )


def decisions() -> list[RegimeItem]:
    return [
        _decision("v1", "01-15T14:20:00", Regime.RANGE, False, True),
        _decision("v1", "01-15T14:40:00", Regime.RANGE, False, True),
        _decision("v1", "01-15T15:00:00", Regime.TREND, True, False),
        _decision("v1", "01-15T15:05:00", Regime.RANGE, False, True, conf=2.3),
        _decision("v1", "01-15T15:28:00", Regime.NOTHING, False, False),
        _decision("v2", "01-15T14:30:00", Regime.NOTHING, False, False),
        _decision("v3", "01-16T14:55:00", Regime.TREND, True, False, 2.6, at("11-25T09:00:00")),
    ]


def _order(
    order_id: str,
    role: Role,
    side: Side,
    qty: int,
    limit: str | None,
    placed: str,
    final: str,
    state: OrderFinalState,
    *,
    stale: bool = False,
    reason: str = "filled",
    exit_reason: ExitReason | None = None,
    revision: int = 0,
) -> OrderOutcome:
    return OrderOutcome(
        order_id=order_id,
        symbol="CL",
        role=role,
        side=side,
        qty=qty,
        order_type="market" if limit is None else "limit",
        limit_price=None if limit is None else Decimal(limit),
        placed_ts=at(placed),
        final_ts=at(final),
        final_state=state,
        filled_qty=qty if state is OrderFinalState.FILLED else 0,
        stale=stale,
        reason=reason,
        exit_reason=exit_reason,
        revision=revision,
    )


def orders() -> list[OrderOutcome]:
    entry, exit_, filled = Role.ENTRY, Role.EXIT, OrderFinalState.FILLED
    buy, sell = Side.BUY, Side.SELL
    cancelled, rejected = OrderFinalState.CANCELLED, OrderFinalState.REJECTED
    return [
        _order("o1a", entry, buy, 1, "60.00", "01-15T14:00:09.900", "01-15T14:00:10", filled),
        _order("o1b", exit_, sell, 1, "60.03", "01-15T14:02:59.800", "01-15T14:03:00", filled),
        _order("o2a", entry, sell, 1, "60.10", "01-15T14:09:59", "01-15T14:10:00", filled),
        _order("o2b", exit_, buy, 1, "60.14", "01-15T14:11:59", "01-15T14:12:00", filled),
        _order(
            "oX1",
            entry,
            buy,
            1,
            "60.00",
            "01-15T14:30:00",
            "01-15T14:30:05",
            cancelled,
            stale=True,
            reason="stale timeout",
        ),
        _order("o3a", entry, buy, 1, "60.20", "01-15T15:05:59", "01-15T15:06:00", filled),
        _order(
            "o3s",
            exit_,
            sell,
            1,
            "60.21",
            "01-15T15:06:49",
            "01-15T15:06:54",
            cancelled,
            stale=True,
            reason="stale timeout, replaced by market",
            exit_reason=ExitReason.TARGET,
        ),
        _order(
            "o3b",
            exit_,
            sell,
            1,
            None,
            "01-15T15:06:54",
            "01-15T15:07:00",
            filled,
            exit_reason=ExitReason.STALE_TO_MARKET,
        ),
        _order(
            "oX2",
            entry,
            sell,
            1,
            "60.50",
            "01-15T15:20:00",
            "01-15T15:20:00.050",
            rejected,
            reason="201: order rejected - no margin",
        ),
        _order(
            "o4a",
            entry,
            sell,
            2,
            "61.00",
            "01-16T14:59:54",
            "01-16T15:00:00",
            filled,
            stale=True,
            reason="reported cancelled, then filled 2 (the cancel lost the race)",
            revision=1,
        ),
        _order("o4b", exit_, buy, 2, "60.95", "01-16T15:01:59", "01-16T15:02:00", filled),
        _order("oX3", entry, buy, 1, "61.20", "01-16T16:00:00", "01-16T16:00:03", cancelled, reason="kill"),
        _order("o5a", entry, sell, 1, "61.00", "01-20T15:59:59", "01-20T16:00:00", filled),
        _order(
            "o5b",
            exit_,
            buy,
            1,
            None,
            "01-20T16:29:50",
            "01-20T16:30:00",
            filled,
            exit_reason=ExitReason.FLATTEN,
        ),
    ]


def risk_events() -> list[RiskEvent]:
    return [
        RiskEvent(
            "CL",
            at("01-16T16:00:02"),
            RiskEventKind.KILL,
            at("01-16").date(),
            Decimal("94.32"),
            "kill switch",
        ),
        RiskEvent(
            "CL",
            at("01-20T16:29:50"),
            RiskEventKind.LOSS_LIMIT,
            at("01-20").date(),
            Decimal("-301.42"),
            "day net -301.42 USD <= -300.00 USD",
        ),
    ]


def write_hand_lake(root: Path) -> None:
    """The lake above, with its duplicates and malformed lines."""
    trips, fills = trips_and_fills()
    items, bar_list = decisions(), bars()
    outcomes, events = orders(), risk_events()
    write_records(
        root,
        fills=fills,
        round_trips=trips,
        regimes=items,
        bars=bar_list,
        orders=outcomes,
        risk_events=events,
    )
    # Redelivery: the same records again, in another object and (for T1) another hour.
    later = at("01-15T18:00:00")
    write_lines(root, "round_trips", [(later, trips[0].to_json())], name="retry")
    write_lines(root, "fills", [(later, fills[0].to_json())], name="retry")
    write_lines(root, "regimes", [(later, _json(items[0]))], name="retry")
    write_lines(root, "bars", [(bar_list[10].ts, bar_list[10].to_json())], name="retry")
    write_lines(root, "orders", [(later, outcomes[4].to_json())], name="retry")  # oX1
    (o4a,) = [o for o in outcomes if o.order_id == "o4a"]
    first_word = replace(o4a, final_state=OrderFinalState.CANCELLED, filled_qty=0, reason="stale", revision=0)
    # In an earlier hour than its revision: the first copy by hour is the wrong one.
    write_lines(root, "orders", [(at("01-16T14:00:00"), first_word.to_json())], name="before")
    write_lines(root, "risk_events", [(at("01-20T18:00:00"), events[1].to_json())], name="retry")
    # Malformed: not JSON, a wrong type, not an object.
    write_lines(root, "round_trips", [(later, '{"trip_id": "rt-x", "symbol": "CL", "qty": 1')], name="bad")
    write_lines(root, "fills", [(later, '{"execution_id": 7, "symbol": "CL"}')], name="bad")
    write_lines(root, "regimes", [(later, "[1, 2, 3]")], name="bad")
    write_lines(root, "orders", [(later, '{"order_id": "oY", "qty": "one"}')], name="bad")
    write_lines(
        root, "risk_events", [(later, '{"event_id": "CL:kill:2026-01-17", "day_net_usd": "lots"}')], "bad"
    )


def _json(item: RegimeItem) -> str:
    import json

    return json.dumps(item.to_dict(), separators=(",", ":"))
