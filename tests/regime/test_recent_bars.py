"""RecentBars: which kept bars a boundary reuses and from when it reads again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from regime.contracts import Bar, BarSource
from regime.recent_bars import RecentBars

T0 = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)


def bars(first: int, last: int) -> list[Bar]:
    """Bars for the minutes first..last after T0."""
    return [
        Bar("CL", T0 + timedelta(minutes=m), 70.0, 70.1, 69.9, 70.0, 10, BarSource.IB)
        for m in range(first, last + 1)
    ]


def minute(m: int) -> datetime:
    return T0 + timedelta(minutes=m)


def test_nothing_kept_reads_the_whole_window() -> None:
    kept, after = RecentBars().split("t", "CL", minute(0), minute(80))
    assert kept == [] and after == minute(0)


def test_the_next_boundary_reuses_all_but_the_overlap() -> None:
    recent = RecentBars(overlap=timedelta(minutes=10))
    recent.keep("t", "CL", bars(1, 79))  # the window (0, 80)
    kept, after = recent.split("t", "CL", minute(5), minute(85))
    assert after == minute(69)  # the newest kept bar (79) less the overlap: 70..84 are read again
    assert kept == bars(6, 69)


def test_a_window_past_everything_kept_reads_in_full() -> None:
    recent = RecentBars()
    recent.keep("t", "CL", bars(1, 79))
    assert recent.split("t", "CL", minute(200), minute(280)) == ([], minute(200))


def test_an_earlier_boundary_never_sees_bars_from_after_it() -> None:
    recent = RecentBars(overlap=timedelta(minutes=10))
    recent.keep("t", "CL", bars(1, 79))
    kept, after = recent.split("t", "CL", minute(-5), minute(75))
    assert after == minute(64) and kept == bars(1, 64)


def test_tables_and_symbols_are_kept_apart_and_a_failed_read_forgets() -> None:
    recent = RecentBars()
    recent.keep("t", "CL", bars(1, 79))
    assert recent.split("other", "CL", minute(0), minute(80)) == ([], minute(0))
    assert recent.split("t", "MCL", minute(0), minute(80)) == ([], minute(0))
    recent.forget("t", "CL")
    assert recent.split("t", "CL", minute(0), minute(80)) == ([], minute(0))
