"""Amounts printed as money."""

from __future__ import annotations

from decimal import Decimal

from trading_engine.execution.money import usd


def test_amounts_print_in_cents_with_thousands() -> None:
    assert usd(Decimal("-295.680000")) == "-295.68"  # the ledger's six places printed as they were
    assert usd(Decimal("1295.6850")) == "1,295.68"  # half to even
    assert usd(0.1 + 0.2) == "0.30" and usd(12) == "12.00"
