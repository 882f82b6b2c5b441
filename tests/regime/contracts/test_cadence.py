"""The decision cadence: one boundary every 5 minutes, each decision valid one minute longer."""

from __future__ import annotations

from datetime import timedelta

from regime.contracts.cadence import DECISION_EVERY_MINUTES, DECISION_INTERVAL, DECISION_VALIDITY


def test_a_decision_outlives_the_interval_by_one_minute() -> None:
    assert DECISION_INTERVAL == timedelta(minutes=DECISION_EVERY_MINUTES) == timedelta(minutes=5)
    assert DECISION_INTERVAL + timedelta(minutes=1) == DECISION_VALIDITY
