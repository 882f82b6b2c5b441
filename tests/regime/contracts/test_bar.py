"""The Bar contract: valid records round-trip; each kind of bad record names what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

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
