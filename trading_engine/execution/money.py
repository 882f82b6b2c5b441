"""Amounts of money as a trader reads them: cents, a sign, thousands separated."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")


def usd(amount: Decimal | float | int) -> str:
    """'-1,295.68' for Decimal('-1295.680000'); floats go through their shortest text, never binary noise."""
    exact = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    return f"{exact.quantize(CENT, ROUND_HALF_EVEN):,}"
