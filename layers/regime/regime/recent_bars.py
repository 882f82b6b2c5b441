"""RecentBars: each symbol's last decision window, kept by a warm container so a boundary reads only the tail.

A window is 80 bars; the boundary after it shares 75 of them. Reading the whole window at every boundary
costs 16 times the read units (and, on the local endpoint, about 1 ms per returned item). So the bars read
at one boundary are kept, and the next read starts at the newest kept bar less `overlap`: the last minutes
are read again, so that a bar stored a little late (a retried ingest batch, a spool flushed after an
outage) is still seen. A bar arriving later than that is seen by the next cold container; the window is
read in full whenever nothing kept falls inside it (a new container, a long break, an earlier boundary).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from regime.contracts import Bar

TAIL_OVERLAP = timedelta(minutes=10)


class RecentBars:
    """Bars kept per (table, symbol) between invocations; pure: the caller reads and hands them back."""

    def __init__(self, overlap: timedelta = TAIL_OVERLAP) -> None:
        self.overlap = overlap
        self._kept: dict[tuple[str, str], list[Bar]] = {}

    def split(self, table: str, symbol: str, start: datetime, end: datetime) -> tuple[list[Bar], datetime]:
        """The kept bars of the window (start, end) that need no new read, and the time after which to read.

        With nothing kept in the window, that time is `start` itself: read the whole window.
        """
        kept = [b for b in self._kept.get((table, symbol), ()) if start < b.ts < end]
        if not kept:
            return [], start
        read_after = max(start, kept[-1].ts - self.overlap)
        return [b for b in kept if b.ts <= read_after], read_after

    def keep(self, table: str, symbol: str, bars: list[Bar]) -> None:
        """Remember the window just read (bars in time order)."""
        self._kept[(table, symbol)] = list(bars)

    def forget(self, table: str, symbol: str) -> None:
        """Drop what was kept (its read failed: the next boundary reads the whole window)."""
        self._kept.pop((table, symbol), None)

    def clear(self) -> None:
        self._kept.clear()
