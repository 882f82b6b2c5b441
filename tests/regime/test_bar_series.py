"""The gap policy: short gaps filled with flat bars, long gaps and rolls cut segments; bad columns named."""

from __future__ import annotations

import numpy as np
import pytest

from regime.bar_series import BarSeries
from regime.contracts.bar import BarError


def series(minutes: list[int], contract: list[str] | None = None, max_fill: int = 5) -> BarSeries:
    n = len(minutes)
    close = 70.0 + np.arange(n) * 0.01
    return BarSeries.from_arrays(
        "CL", minutes, close, close + 0.02, close - 0.02, close, np.full(n, 10.0),
        max_fill_minutes=max_fill, contract=contract,
    )  # fmt: skip


def test_short_gaps_are_filled_flat_at_the_previous_close() -> None:
    s = series([0, 1, 4, 5])  # minutes 2 and 3 missing
    assert s.minute.tolist() == [0, 1, 2, 3, 4, 5]
    assert s.filled.tolist() == [False, False, True, True, False, False]
    assert s.open[2] == s.high[2] == s.low[2] == s.close[2] == s.close[1]
    assert s.volume[2] == 0
    assert len(set(s.segment.tolist())) == 1


def test_long_gaps_and_rolls_start_new_segments() -> None:
    s = series([0, 1, 2, 60, 61, 62, 63], contract=["G", "G", "G", "G", "G", "H", "H"])
    assert s.segment.tolist() == [0, 0, 0, 1, 1, 2, 2]
    assert s.segment_bounds() == [(0, 3), (3, 5), (5, 7)]
    assert not s.filled.any()


def test_gap_of_exactly_max_fill_is_filled_and_one_more_cuts() -> None:
    assert len(series([0, 6], max_fill=5).segment_bounds()) == 1
    assert len(series([0, 7], max_fill=5).segment_bounds()) == 2


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("close", np.nan, "close must be a positive finite"),
        ("low", 80.0, "low <= open,close <= high"),
        ("volume", -1.0, "volume"),
    ],
)
def test_bad_columns_are_named(column: str, value: float, message: str) -> None:
    cols = {k: np.full(3, 70.0) for k in ("open", "high", "low", "close")}
    cols["volume"] = np.ones(3)
    cols[column][1] = value
    with pytest.raises(BarError, match=f"bar 1 .*{message}"):
        BarSeries.from_arrays(
            "CL", [0, 1, 2], cols["open"], cols["high"], cols["low"], cols["close"], cols["volume"]
        )


def test_time_must_increase() -> None:
    with pytest.raises(BarError, match="strictly increasing"):
        series([0, 2, 1])


def test_from_bars_sorts_and_keeps_the_last_duplicate() -> None:
    s = series([0, 1, 2])
    bars = s.to_bars()
    later = bars[1].__class__(**{**{f: getattr(bars[1], f) for f in bars[1].__slots__}, "close": 70.02})
    rebuilt = BarSeries.from_bars([bars[2], bars[1], bars[0], later])
    assert rebuilt.minute.tolist() == [0, 1, 2]
    assert rebuilt.close[1] == 70.02


def test_from_bars_refuses_mixed_symbols() -> None:
    a = series([0]).to_bars()[0]
    b = a.__class__(**{**{f: getattr(a, f) for f in a.__slots__}, "symbol": "MCL"})
    with pytest.raises(BarError, match="one symbol"):
        BarSeries.from_bars([a, b])
