"""Sample trade records for tests: one fill and one round trip of CL, numbered so that ids differ."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from regime.contracts import ExitReason, Fill, Regime, Role, RoundTrip, Side

T0 = datetime(2026, 1, 13, 15, 0, tzinfo=UTC)


def sample_fill(n: int, role: Role = Role.ENTRY) -> Fill:
    """Execution x<n>: buy 1 CL at 70.01 under a range regime, 1.42 USD of fees."""
    return Fill(
        f"x{n}", f"o{n}", "CL", Side.BUY, 1, Decimal("70.01"), T0, Decimal("1.42"), Regime.RANGE, -2.2, role
    )


def sample_trip(n: int, regime: Regime = Regime.RANGE, reason: ExitReason = ExitReason.TARGET) -> RoundTrip:
    """Round trip rt-x<n>: long 1 CL 70.01 -> 70.03, +2 ticks, 20 USD gross, 2.84 USD fees."""
    return RoundTrip(
        f"rt-x{n}",
        "CL",
        Side.BUY,
        1,
        T0,
        T0,
        Decimal("70.01"),
        Decimal("70.03"),
        regime,
        -2.2,
        reason,
        2,
        Decimal(20),
        Decimal("2.84"),
        ("x1",),
        ("x2",),
    )
