"""Fill and round-trip records: typed role and regime inside, the same plain strings in their JSON."""

from __future__ import annotations

import json

import pytest

from regime.contracts import ExitReason, Regime, Role, Side
from tests.sample_records import sample_fill, sample_trip


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
    fill = sample_fill(1, Role.EXIT)
    trip = sample_trip(1, Regime.TREND, ExitReason.TRAIL)
    f, t = json.loads(fill.to_json()), json.loads(trip.to_json())
    assert (f["regime"], f["role"], f["ts"], f["price"]) == ("range", "exit", "2026-01-13T15:00:00Z", 70.01)
    assert (t["regime"], t["exit_reason"], t["net_usd"]) == ("trend", "trail", 17.16)
