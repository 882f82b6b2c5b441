"""GatewayScript: how the fake gateway misbehaves, and what it lists; times are virtual epoch seconds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from devkit.fake_gateway.messages import ListedMonth

MONTH_CODES = "FGHJKMNQUVXZ"

DEFAULT_MONTHS = (
    ListedMonth(495512551, "CL", "CLG6", "20260120"),
    ListedMonth(495512552, "CL", "CLH6", "20260220"),
    ListedMonth(495512553, "CL", "CLJ6", "20260320"),
)


def months_after(day: date, symbol: str = "CL", count: int = 3) -> tuple[ListedMonth, ...]:
    """`count` monthly contracts expiring on the 20th of the months after `day` (a listing for any date)."""
    out = []
    for k in range(1, count + 1):
        y, m = divmod(day.month - 1 + k, 12)
        year, month = day.year + y, m + 1
        code = f"{symbol}{MONTH_CODES[month % 12]}{year % 10}"  # the contract month after expiry's month
        out.append(ListedMonth(400_000_000 + year * 100 + month, symbol, code, f"{year}{month:02d}20"))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class GatewayScript:
    account: str = "DU1234567"
    months: tuple[ListedMonth, ...] = DEFAULT_MONTHS
    busy_client_ids: frozenset[int] = frozenset()  # a startApi with one of these gets 326 and is dropped
    pacing_violations: int = 0  # the first N history requests are refused with 162
    notices: tuple[
        tuple[float, int], ...
    ] = ()  # (time, code): 1100, 1102, 2103, 2104 ... sent to every client
    silent: tuple[tuple[float, float], ...] = ()  # market data stops (no ticks) in [start, end)
    cancel_race: bool = False  # a cancel is reported "Cancelled" at once, whatever then happens to the order
