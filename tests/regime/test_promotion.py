"""The promotion rule reads the held-out comparison's backtest as evidence records (the live gate's kind)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from regime.contracts.evidence import Evidence
from regime.promotion import held_out_record, should_promote

SPAN = (datetime(2026, 2, 20, tzinfo=UTC), datetime(2026, 2, 27, tzinfo=UTC))
GOOD = {"trend_auc": 0.6, "range_auc": 0.62, "trend_log_loss": 0.65, "range_log_loss": 0.66}


def _record(version: str, net_usd: float, trips: int) -> Evidence:
    return held_out_record(
        {"net_usd": net_usd, "round_trips": float(trips)},
        symbol="MCL",
        model_version=version,
        strategy_config_hash="c69aec401268",
        test_span=SPAN,
    )


def test_a_held_out_backtest_is_an_evidence_record_that_round_trips() -> None:
    record = _record("challenger-v2", -120.5, 40)
    assert (record.kind, record.regime, record.oos_trips, record.deflated_sharpe) == (
        "promotion",
        "ml",
        40,
        None,
    )
    assert record.test_span == [t.isoformat() for t in SPAN]
    assert Evidence.from_json(record.to_json()) == record
    # It never opens the live gate alone: one backtest, no deflated Sharpe.
    assert any("deflated Sharpe" in s for s in record.shortfalls("c69aec401268", "challenger-v2"))


def test_the_rule_compares_the_two_records_net_per_trip() -> None:
    worse, better = _record("v2", -200.0, 40), _record("v1", -100.0, 40)  # -5.00 and -2.50 per trip
    promoted, why = should_promote(GOOD, GOOD, False, (worse, better))
    assert not promoted and "net -5.00 USD per round trip below the incumbent's -2.50" in why
    promoted, why = should_promote(GOOD, GOOD, False, (better, worse))
    assert promoted and "evidence" in why
    other_span = dataclasses.replace(worse, test_span=["2026-01-01T00:00:00+00:00", SPAN[1].isoformat()])
    promoted, why = should_promote(GOOD, GOOD, False, (better, other_span))
    assert not promoted and "not comparable" in why
    assert should_promote(GOOD, None, False, (better, worse))[0]  # no incumbent: no comparison to make
    assert should_promote({**GOOD, "range_auc": 0.5}, GOOD, False, (better, worse))[0] is False  # AUC first
