"""The Bar contract: valid records round-trip; each kind of bad record names what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from regime.contracts import bar as bar_bounds
from regime.contracts.bar import Bar, BarError, BarSource


def record(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "symbol": "CL",
        "ts": "2026-01-15T18:49:00Z",
        "open": 59.06,
        "high": 59.07,
        "low": 59.03,
        "close": 59.04,
        "volume": 29,
        "source": "sim",
    }
    base.update(over)
    return base


def test_round_trip_through_json() -> None:
    bar = Bar.from_dict(record(wap=59.05, count=12))
    assert bar.ts == datetime(2026, 1, 15, 18, 49, tzinfo=UTC)
    assert bar.source is BarSource.SIM
    assert Bar.from_json(bar.to_json()) == bar
    assert bar.to_dict()["ts"] == "2026-01-15T18:49:00Z"


def test_optional_fields_are_omitted_when_absent() -> None:
    assert "wap" not in Bar.from_dict(record()).to_dict()


@pytest.mark.parametrize(
    ("override", "names"),
    [
        ({"open": None}, "open"),
        ({"high": "59.1"}, "high"),
        ({"low": -1.0}, "low"),
        ({"close": float("nan")}, "close"),
        ({"close": float("inf")}, "close"),
        ({"volume": -3}, "volume"),
        ({"volume": 1.5}, "volume"),
        ({"ts": "2026-01-15T18:49:30Z"}, "ts"),
        ({"ts": "2026-01-15T18:49:00"}, "ts"),
        ({"ts": "yesterday"}, "ts"),
        ({"source": "broker"}, "source"),
        ({"symbol": ""}, "symbol"),
        ({"high": 59.0}, "ohlc"),
        ({"low": 59.05}, "ohlc"),
        ({"count": -1}, "count"),
        ({"open": True}, "open"),
    ],
)
def test_bad_fields_are_named(override: dict[str, Any], names: str) -> None:
    with pytest.raises(BarError, match=names):
        Bar.from_dict(record(**override))


def test_missing_fields_are_listed() -> None:
    rec = record()
    del rec["close"], rec["volume"]
    with pytest.raises(BarError, match=r"missing field.*close, volume"):
        Bar.from_dict(rec)


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_undecodable_payloads_are_bar_errors(payload: bytes) -> None:
    with pytest.raises(BarError, match="record"):
        Bar.from_json(payload)


@pytest.mark.parametrize(
    ("override", "names"),
    [
        ({"close": 1e300, "high": 1e300}, "high"),  # the red team's bar: DynamoDB's Number overflowed
        ({"low": 1e-300, "open": 1e-300}, "open"),  # under DynamoDB's smallest Number
        ({"wap": 1e300}, "wap"),
        ({"volume": 10**40}, "volume"),  # 40 digits: more than a DynamoDB Number holds
        ({"count": 10**40}, "count"),
        ({"ts": "9999-01-04T10:00:00Z"}, "ts"),
        ({"ts": "1900-01-02T10:00:00Z"}, "ts"),
    ],
)
def test_values_outside_the_contracts_bounds_are_refused(override: dict[str, Any], names: str) -> None:
    with pytest.raises(BarError, match=names):
        Bar.from_dict(record(**override))


def test_the_bounds_are_public_and_admit_every_real_price() -> None:
    assert bar_bounds.PRICE_MIN <= 0.0001 and bar_bounds.PRICE_MAX >= 1_000_000
    assert bar_bounds.price_problem(59.04, "close") is None
    assert bar_bounds.price_problem(float("inf"), "close") == "close: must be a finite number, got inf"
    assert "close" in (bar_bounds.price_problem(1e300, "close") or "")
    assert bar_bounds.volume_problem(29, "volume") is None
    assert bar_bounds.minute_problem(datetime(9999, 1, 4, tzinfo=UTC)) is not None


def test_a_price_far_from_the_last_known_one_is_named() -> None:
    bar = Bar.from_dict(record(open=590.4, high=590.7, low=590.3, close=590.4))
    assert bar_bounds.jump_problem(bar, last_close=59.04) == (
        "high: 590.7 is 10x the last close 59.04 (more than 5x away)"
    )
    assert bar_bounds.jump_problem(Bar.from_dict(record()), last_close=59.5) is None
    assert bar_bounds.jump_problem(Bar.from_dict(record()), last_close=None) is None
