"""OrderOutcome and RiskEvent: their JSON (the lake's columns), back again, and clear errors."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from regime.contracts import (
    ExitReason,
    OrderFinalState,
    OrderOutcome,
    Regime,
    RiskEvent,
    RiskEventKind,
    Role,
    Side,
)

T0 = datetime(2026, 1, 13, 15, 0, 0, 250000, tzinfo=UTC)


def stale_exit() -> OrderOutcome:
    return OrderOutcome(
        order_id="CL-r1-7",
        symbol="CL",
        role=Role.EXIT,
        side=Side.SELL,
        qty=1,
        order_type="limit",
        limit_price=Decimal("70.03"),
        placed_ts=T0,
        final_ts=T0.replace(second=5),
        final_state=OrderFinalState.CANCELLED,
        filled_qty=0,
        stale=True,
        reason="stale timeout, replaced by market",
        regime=Regime.RANGE,
        exit_reason=ExitReason.TARGET,
        signal_price=Decimal("70.02"),
    )


def test_an_order_outcome_prints_exact_prices_and_utc_times_and_reads_back() -> None:
    outcome = stale_exit()
    doc = json.loads(outcome.to_json())
    assert doc == {
        "order_id": "CL-r1-7",
        "symbol": "CL",
        "role": "exit",
        "side": "SELL",
        "qty": 1,
        "order_type": "limit",
        "limit_price": 70.03,
        "placed_ts": "2026-01-13T15:00:00.250000Z",
        "final_ts": "2026-01-13T15:00:05.250000Z",
        "final_state": "cancelled",
        "filled_qty": 0,
        "stale": True,
        "reason": "stale timeout, replaced by market",
        "regime": "range",
        "exit_reason": "target",
        "signal_price": 70.02,
        "revision": 0,
    }
    assert OrderOutcome.from_dict(doc) == outcome
    assert OrderOutcome.from_dict({k: v for k, v in doc.items() if k != "revision"}) == outcome  # older hosts
    market = OrderOutcome.from_dict({**doc, "order_type": "market", "limit_price": None, "exit_reason": None})
    assert market.limit_price is None and market.exit_reason is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"qty": 0}, "qty must be >= 1"),
        ({"filled_qty": -1}, "filled_qty must be >= 0"),
        ({"revision": -1}, "revision must be >= 0"),
        ({"order_type": "stop"}, "order_type must be one of"),
        ({"placed_ts": "yesterday"}, "placed_ts: not an ISO-8601 time"),
        ({"final_ts": "2026-01-13T15:00:00"}, "final_ts: no time zone"),
    ],
)
def test_a_bad_order_outcome_is_refused_with_the_field_named(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OrderOutcome.from_dict({**stale_exit().to_dict(), **change})
    doc = stale_exit().to_dict()
    del doc["reason"]
    with pytest.raises(ValueError, match="missing reason"):
        OrderOutcome.from_dict(doc)


def test_a_risk_event_is_keyed_by_symbol_kind_and_trading_day() -> None:
    event = RiskEvent("CL", T0, RiskEventKind.LOSS_LIMIT, date(2026, 1, 13), Decimal("-301.42"), "day net")
    doc = json.loads(event.to_json())
    assert doc == {
        "event_id": "CL:loss-limit:2026-01-13",
        "symbol": "CL",
        "ts": "2026-01-13T15:00:00.250000Z",
        "kind": "loss-limit",
        "trading_day": "2026-01-13",
        "day_net_usd": -301.42,
        "detail": "day net",
    }
    assert RiskEvent.from_dict(doc) == event
    later = RiskEvent(
        "CL", T0.replace(hour=18), RiskEventKind.LOSS_LIMIT, date(2026, 1, 13), Decimal(-300), ""
    )
    assert later.event_id == event.event_id  # tripped again after a restart: one event in the lake
    with pytest.raises(ValueError, match="'stop' is not a valid RiskEventKind"):
        RiskEvent.from_dict({**doc, "kind": "stop"})
