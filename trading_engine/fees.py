"""Fee schedules: broker commission plus exchange fee, per contract and per side.

Two families:
- the article's presets, by name: retail 0.85 + 1.45 USD and IB/NYMEX tiered 0.65 + 0.77 USD per side (a
  round turn costs 4.60 or 2.84 USD). They are CL figures: on MCL (1 USD a tick instead of 10) they cost ten
  times more in ticks, so use them on CL only;
- per instrument, `ib-fixed` and `ib-tiered`: Interactive Brokers' published US futures commissions plus the
  exchange and regulatory fees it passes on, for each symbol (`instrument_fees`).

Sources (per side, per contract, USD; checked for this code in 2026, re-check before trading real money):
- commissions: IBKR "Commissions Futures" page, https://www.interactivebrokers.com/en/pricing/commissions-futures.php
  (United States): standard contracts fixed 0.85, tiered by monthly volume 0.85 (<= 1,000), 0.65 (<= 10,000),
  0.45 (<= 20,000), 0.25 (more); CME Group micro contracts (MES, MCL, ...) fixed 0.25, tiered 0.25, 0.20,
  0.15, 0.10.
- exchange fees: CME Group's Globex non-member fees as IBKR lists them on its CME and NYMEX exchange-fee
  pages: CL 1.45 (the article's figure), MCL 0.27, MES 0.35; plus the NFA regulatory fee 0.02 on every side.
  IBKR's "fixed" plan includes these fees in its commission for most products; it is modelled here as
  commission + the same pass-through, which is the conservative reading.
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

NFA_FEE_USD = Decimal("0.02")
# Monthly volume tiers (contracts, upper bound inclusive) and IBKR's tiered commission for each.
_STANDARD_TIERS = ((1_000, "0.85"), (10_000, "0.65"), (20_000, "0.45"), (None, "0.25"))
_MICRO_TIERS = ((1_000, "0.25"), (10_000, "0.20"), (20_000, "0.15"), (None, "0.10"))


@dataclass(frozen=True, slots=True)
class InstrumentFees:
    """What IBKR charges on one symbol: fixed commission, tiered commissions, exchange fee."""

    fixed_usd: Decimal
    tiers: tuple[tuple[int | None, str], ...]
    exchange_usd: Decimal


INSTRUMENT_FEES: dict[str, InstrumentFees] = {
    "CL": InstrumentFees(Decimal("0.85"), _STANDARD_TIERS, Decimal("1.45")),
    "MCL": InstrumentFees(Decimal("0.25"), _MICRO_TIERS, Decimal("0.27")),
    "MES": InstrumentFees(Decimal("0.25"), _MICRO_TIERS, Decimal("0.35")),
}
PLANS = ("ib-fixed", "ib-tiered")
SCHEDULES = (*PRESETS, *PLANS)


def instrument_fees(symbol: str, plan: str, monthly_volume: int = 0) -> FeeSchedule:
    """IBKR's `plan` (ib-fixed | ib-tiered) on `symbol`; tiered at the tier of `monthly_volume` contracts."""
    fees = INSTRUMENT_FEES.get(symbol.upper())
    if fees is None:
        raise ValueError(f"fees: no published fees for {symbol!r}; known: {', '.join(INSTRUMENT_FEES)}")
    if monthly_volume < 0:
        raise ValueError(f"fees: monthly volume must be >= 0, got {monthly_volume}")
    exchange = fees.exchange_usd + NFA_FEE_USD
    if plan == "ib-fixed":
        return FeeSchedule(f"ib-fixed {symbol.upper()}", fees.fixed_usd, exchange)
    if plan == "ib-tiered":
        rate = next(r for bound, r in fees.tiers if bound is None or monthly_volume < bound)
        return FeeSchedule(f"ib-tiered {symbol.upper()}", Decimal(rate), exchange)
    raise ValueError(f"fees: unknown plan {plan!r}; plans: {', '.join(PLANS)}")


def preset_mismatch(fees: FeeSchedule, symbol: str) -> str | None:
    """Why `fees` does not fit `symbol` (the article's presets hold CL's figures), or None when it does."""
    if fees.name in PRESETS and fees is not NO_FEES and symbol.upper() != "CL":
        return f"fee preset {fees.name!r} holds CL figures; on {symbol} use --fees ib-tiered or ib-fixed"
    return None


def fee_schedule(name: str, symbol: str | None = None) -> FeeSchedule:
    """A preset by name, or an IBKR plan for `symbol`; an unknown name lists the choices."""
    if name in PLANS:
        if symbol is None:
            raise ValueError(f"fees: {name!r} is per instrument: give the symbol")
        return instrument_fees(symbol, name)
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(
            f"fees: unknown schedule {name!r}; presets: {', '.join(PRESETS)}; "
            f"per instrument: {', '.join(PLANS)}"
        ) from None
