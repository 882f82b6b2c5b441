"""The synthetic market's calendar: CME Globex's shape (Sunday-Friday, a one-hour daily break), in UTC.

The generator (`regime.synthetic`) makes bars only inside these sessions, and the host trades the synthetic
market on the same calendar (`trading_engine.instruments.SYNTHETIC_SESSION`), so its risk gate sees the break
where the data has it.
"""

from __future__ import annotations

from datetime import time

DAILY_BREAK_START_UTC = time(21, 0)  # the session for trading date D closes at 21:00 UTC on D ...
DAILY_BREAK_END_UTC = time(22, 0)  # ... and the session for D+1 opens at 22:00 UTC on D
DAILY_BREAK_MINUTES = (DAILY_BREAK_END_UTC.hour - DAILY_BREAK_START_UTC.hour) * 60 + (
    DAILY_BREAK_END_UTC.minute - DAILY_BREAK_START_UTC.minute
)
SESSION_MINUTES = 24 * 60 - DAILY_BREAK_MINUTES
