"""The one text form of times and the one exact-number conversion that every record and table uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from regime.contracts.numbers import exact_decimals, json_number
from regime.contracts.timestamps import format_minute, format_utc


def test_minutes_and_timestamps_print_in_utc_with_a_z() -> None:
    ts = datetime(2026, 1, 15, 18, 49, 7, 250000, tzinfo=UTC)
    assert format_minute(ts) == "2026-01-15T18:49:00Z"
    assert format_minute(ts.astimezone(timezone(timedelta(hours=-5)))) == "2026-01-15T18:49:00Z"
    assert format_utc(ts) == "2026-01-15T18:49:07.250000Z"
    assert format_utc(ts.replace(microsecond=0)) == "2026-01-15T18:49:07Z"


def test_decimals_print_as_the_json_numbers_they_are() -> None:
    assert json_number(Decimal("70.00")) == 70 and isinstance(json_number(Decimal("70.00")), int)
    assert json_number(Decimal("70.01")) == 70.01


def test_floats_become_the_exact_decimal_of_their_json_text() -> None:
    exact = exact_decimals({"p": 0.1, "n": 3, "s": "x", "nested": {"q": 2.5}, "l": [1.25]})
    assert exact == {
        "p": Decimal("0.1"),
        "n": 3,
        "s": "x",
        "nested": {"q": Decimal("2.5")},
        "l": [Decimal("1.25")],
    }
