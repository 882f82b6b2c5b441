"""The regime item round-trips, including through DynamoDB's Decimal numbers, and knows when it expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from regime.contracts.cadence import DECISION_VALIDITY
from regime.contracts.regime_item import Regime, RegimeItem


def item() -> RegimeItem:
    end = datetime(2026, 1, 15, 19, 0, tzinfo=UTC)
    return RegimeItem(
        symbol="CL",
        regime=Regime.RANGE,
        window_end=end,
        computed_at=end + timedelta(seconds=7.25),
        valid_until=end + DECISION_VALIDITY,
        model_version="v1",
        trend_vote=False,
        trend_confidence=1.9,
        range_vote=True,
        range_confidence=2.1,
        probabilities={"trend_mlp": 0.3},
    )


def test_round_trip() -> None:
    assert RegimeItem.from_dict(item().to_dict()) == item()


def test_decimal_numbers_from_dynamodb_are_accepted() -> None:
    raw = item().to_dict()
    raw["range_confidence"] = Decimal("2.1")
    raw["probabilities"] = {"trend_mlp": Decimal("0.3")}
    assert RegimeItem.from_dict(raw) == item()


def test_validity_ends_at_valid_until() -> None:
    it = item()
    assert it.is_valid_at(it.valid_until - timedelta(seconds=1))
    assert not it.is_valid_at(it.valid_until)
