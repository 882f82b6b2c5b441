"""Fill and round-trip records: typed role and regime inside, the same plain strings in their JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from regime.contracts import ExitReason, Fill, Regime, Role, RoundTrip, Side

T0 = datetime(2026, 1, 15, 19, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("position", "side", "role"),
    [
        (0, Side.BUY, Role.ENTRY),  # opens
        (0, Side.SELL, Role.ENTRY),
        (2, Side.BUY, Role.ENTRY),  # increases a long
        (-1, Side.SELL, Role.ENTRY),  # increases a short
        (1, Side.SELL, Role.EXIT),  # reduces or closes a long
        (-3, Side.BUY, Role.EXIT),  # reduces, closes or flips a short
    ],
)
def test_role_of_an_execution_from_its_effect(position: int, side: Side, role: Role) -> None:
    assert Role.of_effect(position, side) is role


def test_json_carries_the_string_values() -> None:
    fill = Fill(
        "x1", "o1", "CL", Side.BUY, 1, Decimal("70.01"), T0, Decimal("1.42"), Regime.RANGE, -2.2, Role.EXIT
    )
    trip = RoundTrip(
        "rt-x1",
        "CL",
        Side.BUY,
        1,
        T0,
        T0,
        Decimal("70.01"),
        Decimal("70.03"),
        Regime.TREND,
        -2.2,
        ExitReason.TRAIL,
        2,
        Decimal(20),
        Decimal("2.84"),
    )
    f, t = json.loads(fill.to_json()), json.loads(trip.to_json())
    assert (f["regime"], f["role"], f["ts"], f["price"]) == ("range", "exit", "2026-01-15T19:00:30Z", 70.01)
    assert (t["regime"], t["exit_reason"], t["net_usd"]) == ("trend", "trail", 17.16)
