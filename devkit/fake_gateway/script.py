"""GatewayScript: how the fake gateway misbehaves, and what it lists; times are virtual epoch seconds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from devkit.fake_gateway.messages import MONTH_CODES, ListedMonth

DEFAULT_MONTHS = (
    ListedMonth(495512551, "CL", "CLG6", "20260120"),
    ListedMonth(495512552, "CL", "CLH6", "20260220"),
    ListedMonth(495512553, "CL", "CLJ6", "20260320"),
)


def months_after(
    day: date, symbol: str = "CL", count: int = 3, multiplier: str = "1000"
) -> tuple[ListedMonth, ...]:
    """`count` monthly contracts expiring on the 20th of the months after `day` (a listing for any date)."""
    out = []
    for k in range(1, count + 1):
        y, m = divmod(day.month - 1 + k, 12)
        year, month = day.year + y, m + 1
        code = f"{symbol}{MONTH_CODES[month % 12]}{year % 10}"  # the contract month after expiry's month
        con_id = 400_000_000 + year * 100 + month
        out.append(ListedMonth(con_id, symbol, code, f"{year}{month:02d}20", multiplier=multiplier))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class GatewayScript:
    account: str = "DU1234567"
    months: tuple[ListedMonth, ...] = DEFAULT_MONTHS
    busy_client_ids: frozenset[int] = frozenset()  # a startApi with one of these gets 326 and is dropped
    pacing_violations: int = 0  # the first N history requests are refused with 162
    # (time, code) or (time, code, text): 1100, 1102, 2103 ... sent to every client; 354, 420, 10197 on its
    # market data requests, 162 on its bar requests (which IB then ends); 0: every bar stream dies silently
    notices: tuple[tuple[float, int] | tuple[float, int, str], ...] = ()
    silent: tuple[tuple[float, float], ...] = ()  # market data stops (no ticks) in [start, end)
    cancel_race: bool = False  # a cancel is reported "Cancelled" at once, whatever then happens to the order
    drop_order_ref: bool = False  # executions and open orders come back without their orderRef
    unanswered: frozenset[int] = frozenset()  # request message ids read and never answered (a hung gateway)
    other_positions: tuple[tuple[str, str, int], ...] = ()  # (account, local symbol, qty) held beside ours
    empty_histories: int = 0  # the first N bar requests are answered with no bar (HMDS without data)
