"""The bars-only tape, walked by the compiled pass or by numpy, gives exactly the ticks of the original
bar-by-bar walk.

`_walked` below is the original pure-Python implementation of MarketTape.from_bars, kept here only as the
reference: every tick (time to the last bit, bid, ask, last, size) of both walks must match on synthetic
bars (every spread, rising and falling bars, doji, filled minutes) and on the real files when they are
present.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from regime.bar_file import load_bar_file
from regime.bar_series import BarSeries
from regime.synthetic import synthetic_days
from trading_engine.backtest.fast import kernel_aot
from trading_engine.broker.sim.market_tape import MarketTape, _bar_ticks, walk_arguments, walk_with_numpy
from trading_engine.instruments import SYNTHETIC_SESSION, contract

SHARED_DATA = Path(__file__).resolve().parents[4].parent / "shared" / "data"


def _walk(a: int, b: int) -> list[int]:
    step = 1 if b >= a else -1
    return list(range(a, b + step, step))


def _walked(bars: BarSeries, tick: float, spread_ticks: int) -> tuple[np.ndarray, ...]:
    """The original MarketTape.from_bars walk, bar by bar: time, bid, ask, last, size."""
    minute, o, h, lo, c, vol = _bar_ticks(bars, tick)
    times: list[float] = []
    lasts: list[int] = []
    sizes: list[int] = []
    up: list[bool] = []
    for k in range(minute.shape[0]):
        if bars.filled[k]:
            continue
        ok, hk, lk, ck = int(o[k]), int(h[k]), int(lo[k]), int(c[k])
        first, second = (lk, hk) if ck >= ok else (hk, lk)
        path = _walk(ok, first) + _walk(first, second)[1:] + _walk(second, ck)[1:]
        m = len(path)
        start = float(minute[k]) * 60.0
        times.extend(start + 60.0 * j / m for j in range(m))
        lasts.extend(path)
        sizes.extend([max(1, int(vol[k]) // m)] * m)
        up.append(False)
        up.extend(path[j] > path[j - 1] for j in range(1, m))
    last = np.asarray(lasts, dtype=np.int64)
    is_up = np.asarray(up, dtype=bool)
    bid = np.where(is_up, last - spread_ticks, last)
    ask = np.where(is_up, last, last + spread_ticks)
    return np.asarray(times), bid, ask, last, np.asarray(sizes, dtype=np.int64)


def _assert_same(bars: BarSeries, symbol: str, spread_ticks: int) -> int:
    spec = contract(symbol)
    assert kernel_aot.built("walk_bars") is not None, "make venv builds the compiled walk"
    tape = MarketTape.from_bars(bars, spec, spread_ticks)  # the compiled pass
    numpy_walk = walk_with_numpy(*walk_arguments(bars, float(spec.tick_size), spread_ticks))
    time, bid, ask, last, size = _walked(bars, float(spec.tick_size), spread_ticks)
    for walked in ((tape.time, tape.bid, tape.ask, tape.last, tape.size), numpy_walk):
        assert walked[0].dtype == np.float64
        assert walked[0].tobytes() == time.tobytes()  # to the last bit
        for ours, theirs in zip(walked[1:], (bid, ask, last, size), strict=True):
            assert ours.dtype == np.int64
            np.testing.assert_array_equal(ours, theirs)
    return tape.n_ticks


@pytest.mark.parametrize("spread", [1, 2, 3])
def test_the_walk_is_the_original_on_synthetic_bars(spread: int) -> None:
    bars = synthetic_days(2, seed=11).bars
    assert _assert_same(bars, "CL", spread) > len(bars)


def test_the_walk_handles_every_bar_shape_and_filled_minutes() -> None:
    """Rising, falling, doji, open at an extreme, close at an extreme, and a filled (quiet) minute."""
    rows = [  # open, high, low, close (CL ticks of 0.01)
        (70.00, 70.05, 69.97, 70.03),
        (70.03, 70.03, 69.95, 69.96),
        (69.96, 69.96, 69.96, 69.96),
        (69.96, 70.00, 69.96, 70.00),
        (70.00, 70.02, 69.99, 70.02),
        (70.02, 70.02, 69.90, 70.02),
    ]
    minutes = np.array([1000, 1001, 1002, 1004, 1005, 1006], dtype=np.int64)  # 1003 gets filled
    o, h, lo, c = (np.array(col, dtype=np.float64) for col in zip(*rows, strict=True))
    bars = BarSeries.from_arrays("CL", minutes, o, h, lo, c, np.array([9, 1, 0, 50, 7, 3], dtype=np.float64))
    assert bars.filled.any()
    assert _assert_same(bars, "CL", 1) == sum(
        abs(r[2] - r[0]) + abs(r[1] - r[2]) + abs(r[3] - r[1]) + 1
        if r[3] >= r[0]
        else abs(r[1] - r[0]) + abs(r[2] - r[1]) + abs(r[3] - r[2]) + 1
        for r in ((round(a * 100), round(b * 100), round(d * 100), round(e * 100)) for a, b, d, e in rows)
    )


def test_an_empty_series_gives_an_empty_tape() -> None:
    bars = synthetic_days(1, seed=2).bars
    empty = bars.take(np.arange(0))
    tape = MarketTape.from_bars(empty, contract("CL").with_session(SYNTHETIC_SESSION))
    assert tape.n_ticks == 0 and tape.n_bars == 0


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "symbol"), [("MCL_1m_2026-01-15_2026-02-27.csv", "MCL"), ("MES_1m_2023.csv", "MES")]
)
def test_the_walk_is_the_original_on_whole_real_files(name: str, symbol: str) -> None:
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip("../shared/data is not present on this machine")
    assert _assert_same(load_bar_file(path, symbol=symbol).series, symbol, 1) > 100_000


def test_until_keeps_the_ticks_before_the_cut_and_the_bars_complete_by_then() -> None:
    tape = MarketTape.from_synthetic(synthetic_days(1, seed=5))
    cut = float(tape.time[0]) + 2 * 3600 + 30.0  # mid-minute: that minute's bar is not complete
    head = tape.until(cut)
    assert head.n_ticks == int((tape.time < cut).sum()) and 0 < head.n_ticks < tape.n_ticks
    assert float(head.time[-1]) < cut <= float(tape.time[head.n_ticks])
    assert head.n_bars > 0 and float(head.bar_end[-1]) <= cut < float(tape.bar_end[head.n_bars])
    np.testing.assert_array_equal(head.bar_close, tape.bar_close[: head.n_bars])
    np.testing.assert_array_equal(head.last, tape.last[: head.n_ticks])


def test_without_the_compiled_walk_a_tape_is_made_without_numba(tmp_path: Path) -> None:
    """A host or the train function installed without numba (not a base dependency) still walks bars."""
    code = f"""
import sys
from pathlib import Path
from trading_engine.backtest.fast import kernel_aot
kernel_aot.BUILD_DIR = Path({str(tmp_path)!r})  # an empty build folder: nothing compiled
from regime.synthetic import synthetic_days
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.instruments import SYNTHETIC_SESSION, contract
tape = MarketTape.from_bars(synthetic_days(1, seed=3).bars, contract("CL").with_session(SYNTHETIC_SESSION))
assert tape.n_ticks > 1000, tape.n_ticks
assert "numba" not in sys.modules, "numba was imported"
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
