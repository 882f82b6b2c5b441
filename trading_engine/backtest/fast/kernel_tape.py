"""The tape's two per-tick passes as compiled loops: the intra-bar walk of historical bars (MarketTape.
from_bars) and the z-score at every tick (inputs.tick_zscores).

Both were numpy expressions over the whole year (a year of MES is 2.8 million prints): each temporary a
full-length array, the walk a dozen of them, the z-scores a binary search per tick. Here each is one pass
that writes its outputs once. They are compiled ahead of time with the fast loop (kernel_aot), so a
backtest neither imports numba nor pays its compiler; the arithmetic is the numpy version's, operation for
operation, so every value is the same to the last bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from regime.vote import NOTHING


@njit(cache=True, error_model="numpy")
def walk_bars(
    minute: np.ndarray,
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    vol: np.ndarray,
    filled: np.ndarray,
    spread: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every traded bar walked one tick at a time, open -> first extreme -> second extreme -> close (the low
    first when the bar closes at or above its open): time, bid, ask, last and size of each print.

    Print j of a bar of m prints is at minute start + 60 * j / m; it trades at the ask when it stepped up
    (bid = last - spread), else at the bid (ask = last + spread); the bar's volume is shared equally."""
    n = 0
    for k in range(o.shape[0]):
        if not filled[k]:
            first, second = (lo[k], h[k]) if c[k] >= o[k] else (h[k], lo[k])
            n += 1 + abs(first - o[k]) + abs(second - first) + abs(c[k] - second)
    time = np.empty(n)
    bid = np.empty(n, np.int64)
    ask = np.empty(n, np.int64)
    last = np.empty(n, np.int64)
    size = np.empty(n, np.int64)
    i = 0
    for k in range(o.shape[0]):
        if filled[k]:
            continue
        first, second = (lo[k], h[k]) if c[k] >= o[k] else (h[k], lo[k])
        m = 1 + abs(first - o[k]) + abs(second - first) + abs(c[k] - second)
        start = float(minute[k]) * 60.0
        share = max(1, vol[k] // m)
        to_first = abs(first - o[k])
        to_second = to_first + abs(second - first)
        p, up = o[k], False  # a bar's open is a jump from the previous close: never an up-step
        for j in range(m):
            if j > 0:  # one tick towards the leg's end: the first extreme, the second, then the close
                target = first if j <= to_first else second if j <= to_second else c[k]
                up = target > p
                p += 1 if up else -1
            time[i] = 60.0 * j / m + start
            last[i] = p
            bid[i] = p - spread if up else p
            ask[i] = p if up else p + spread
            size[i] = share
            i += 1
    return time, bid, ask, last, size


@njit(cache=True, error_model="numpy")
def ticks_zscores(
    time: np.ndarray,
    last: np.ndarray,
    bar_end: np.ndarray,
    total: np.ndarray,
    denom: np.ndarray,
    lookback: int,
) -> np.ndarray:
    """At each tick, (lookback * last - total[k]) / denom[k] of the last bar k complete by then (a bar
    completing at the tick's time counts: it is handled before the tick); NaN before the first bar.

    k follows the ticks (in time order, one step at a time, so it costs one pass), and walks back if a tick
    is earlier than the one before it."""
    n, nb = time.shape[0], bar_end.shape[0]
    z = np.empty(n)
    k = -1
    for i in range(n):
        t = time[i]
        while k + 1 < nb and bar_end[k + 1] <= t:
            k += 1
        while k >= 0 and bar_end[k] > t:
            k -= 1
        z[i] = np.nan if k < 0 else float(lookback * last[i] - total[k]) / denom[k]
    return z


@njit(cache=True, error_model="numpy")
def atr_totals(
    minute: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int, reset_gap: int
) -> tuple[np.ndarray, np.ndarray]:
    """AverageTrueRange.total after each bar (the exact integer sum of the last `window` true ranges) and
    whether it exists yet; a run of bars restarts after a hole longer than `reset_gap` minutes (negative:
    never), its first bar's true range being its own high - low."""
    nb = minute.shape[0]
    total = np.empty(nb, np.int64)
    full = np.empty(nb, np.bool_)
    sums = np.zeros(nb + 1, np.int64)  # running sum of true ranges (across runs: a window is read whole)
    pos = 0
    for k in range(nb):
        first = k == 0 or (reset_gap >= 0 and minute[k] - minute[k - 1] > reset_gap)
        tr = high[k] - low[k]
        if not first:
            tr = max(tr, abs(high[k] - close[k - 1]), abs(low[k] - close[k - 1]))
        pos = 0 if first else pos + 1
        sums[k + 1] = sums[k] + tr
        total[k] = sums[k + 1] - sums[max(k + 1 - window, 0)]
        full[k] = pos >= window - 1
    return total, full


@njit(cache=True, error_model="numpy")
def timeline_codes(time: np.ndarray, first_minute: int, codes: np.ndarray) -> np.ndarray:
    """RegimeTimeline.regime_at(t) at every tick time t, as vote codes: the code of minute t // 60, NOTHING
    outside the timeline. The floor division is numpy's and Python's own (fmod, then the rounding fix), so
    every tick falls in the minute they would put it in; it is done once per minute of ticks (within a
    minute's [60 k, 60 k + 60), t // 60 is k exactly)."""
    out = np.empty(time.shape[0], np.int8)
    lo, hi, k = np.inf, -np.inf, 0  # the minute [lo, hi) of the tick before: every t in it has t // 60 = k
    for i in range(time.shape[0]):
        t = time[i]
        if not lo <= t < hi:
            mod = np.fmod(t, 60.0)
            div = (t - mod) / 60.0
            if mod != 0.0 and mod < 0.0:
                div -= 1.0
            floor = np.floor(div)
            if div - floor > 0.5:
                floor += 1.0
            k = int(floor) - first_minute
            lo = floor * 60.0
            hi = lo + 60.0
        out[i] = codes[k] if 0 <= k < codes.shape[0] else NOTHING
    return out
