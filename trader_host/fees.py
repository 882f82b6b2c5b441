"""Fee schedules: broker commission plus exchange fee, per contract and per side.

Presets are the article's: retail 0.85 + 1.45 USD and IB/NYMEX tiered 0.65 + 0.77 USD per side (so a round
turn costs 4.60 or 2.84 USD). They are CL figures; other contracts use the same schedule unless configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Fees for one side of one contract."""

    name: str
    commission_usd: Decimal
    exchange_usd: Decimal

    @property
    def per_side_usd(self) -> Decimal:
        return self.commission_usd + self.exchange_usd

    def for_fill(self, qty: int) -> Decimal:
        """Total fees of one execution of `qty` contracts."""
        if qty <= 0:
            raise ValueError(f"qty must be positive, got {qty}")
        return self.per_side_usd * qty

    @property
    def round_turn_usd(self) -> Decimal:
        return 2 * self.per_side_usd


RETAIL = FeeSchedule("retail", Decimal("0.85"), Decimal("1.45"))
TIERED = FeeSchedule("tiered", Decimal("0.65"), Decimal("0.77"))
NO_FEES = FeeSchedule("none", Decimal("0"), Decimal("0"))
PRESETS: dict[str, FeeSchedule] = {f.name: f for f in (RETAIL, TIERED, NO_FEES)}


def fee_schedule(name: str) -> FeeSchedule:
    """A preset by name; an unknown name lists the presets."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"fees: unknown schedule {name!r}; presets: {', '.join(PRESETS)}") from None
