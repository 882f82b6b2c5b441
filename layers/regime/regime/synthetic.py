"""A seeded, deterministic CL-like market with ground truth.

The true regime switches between trend (drift that persists), range (mean reversion around the level where
the range began) and random walk (neither), with random durations from minutes to hours. Volatility clusters
(log-volatility is AR(1) per minute) and follows the day (busier in the New York session). Prices move in
log space and a trend's direction leans back toward the start price, so months of sessions stay plausible
and positive. Ticks arrive at a rate that rises with volatility, with bid and ask on the tick grid (usually
one tick wide), trade sizes and so volume; optional price jumps; optional session gaps (CME's daily break
and weekends, on the UTC calendar of `regime.contracts.synthetic_calendar`). The same seed always gives the
same market.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from regime.bar_series import BarSeries, FloatArray, IntArray
from regime.contracts.synthetic_calendar import DAILY_BREAK_END_UTC, SESSION_MINUTES
from regime.vote import RANGE, TREND


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """Parameters of the synthetic market (defaults: CL-like, about 4 ticks of noise per minute)."""

    symbol: str = "CL"
    tick_size: float = 0.01
    start_price: float = 70.0
    first_day: date = date(2026, 1, 5)
    days: int = 1
    seed: int = 7
    session_gaps: bool = True
    ticks_per_minute: float = 30.0
    vol_ticks_per_minute: float = 3.5
    vol_persistence: float = 0.97
    vol_of_vol: float = 0.08
    regime_median_minutes: float = 35.0
    regime_min_minutes: int = 5
    regime_max_minutes: int = 240
    regime_weights: tuple[float, float, float] = (0.35, 0.3, 0.35)  # nothing, trend, range
    trend_drift_sigmas: float = 0.9  # drift per minute, in units of the minute's volatility
    # A trend's direction leans back toward the start price (logistic in the distance, this fraction of the
    # start price = odds of e to 1), so that weeks of trends wander like a commodity, not off to zero.
    reversion_scale: float = 0.05
    range_half_life_minutes: float = 1.5
    wide_spread_prob: float = 0.05
    jump_prob_per_minute: float = 0.0
    jump_ticks: int = 20

    def __post_init__(self) -> None:
        for name in (
            "days",
            "tick_size",
            "start_price",
            "ticks_per_minute",
            "vol_ticks_per_minute",
            "reversion_scale",
            "range_half_life_minutes",
            "regime_median_minutes",
        ):
            if not getattr(self, name) > 0:
                raise ValueError(f"MarketSpec.{name} must be positive, got {getattr(self, name)!r}")
        if not 0 < self.vol_persistence < 1:
            raise ValueError(f"MarketSpec.vol_persistence must be in (0, 1), got {self.vol_persistence!r}")


@dataclass(frozen=True)
class TickTape:
    """Every tick, in time order: epoch seconds, bid/ask/last in whole ticks, trade size."""

    tick_size: float
    time: FloatArray
    bid_ticks: IntArray
    ask_ticks: IntArray
    last_ticks: IntArray
    size: IntArray

    def __len__(self) -> int:
        return int(self.time.shape[0])

    @property
    def last(self) -> FloatArray:
        return np.round(self.last_ticks * self.tick_size, 10)


@dataclass(frozen=True)
class SyntheticMarket:
    """Ticks, the 1-minute bars built from them, and the true regime of every bar (vote codes)."""

    spec: MarketSpec
    ticks: TickTape
    bars: BarSeries
    truth: npt.NDArray[np.int8] = field(repr=False)

    def part(self, start: int, end: int | None = None) -> SyntheticMarket:
        """The market from epoch minute `start` to before `end` (ticks, bars and true regime alike)."""
        stop = np.iinfo(np.int64).max if end is None else end
        keep = np.flatnonzero((self.bars.minute >= start) & (self.bars.minute < stop))
        t = self.ticks
        at = (t.time >= start * 60.0) & (t.time < stop * 60.0)
        ticks = TickTape(
            t.tick_size, t.time[at], t.bid_ticks[at], t.ask_ticks[at], t.last_ticks[at], t.size[at]
        )
        return SyntheticMarket(self.spec, ticks, self.bars.take(keep), self.truth[keep])


def _session_open(day: date) -> datetime:
    """When the session for trading date `day` opens: at the end of the daily break on the day before."""
    return datetime.combine(day - timedelta(days=1), DAILY_BREAK_END_UTC, UTC)


def session_minutes(spec: MarketSpec) -> IntArray:
    """Epoch minutes that trade: weekday sessions with their daily break, or one unbroken run."""
    first_open = _session_open(spec.first_day)
    first_minute = int(first_open.timestamp()) // 60
    if not spec.session_gaps:
        return np.arange(first_minute, first_minute + spec.days * SESSION_MINUTES, dtype=np.int64)
    runs: list[IntArray] = []
    day = spec.first_day
    while len(runs) < spec.days:
        if day.weekday() < 5:
            start = int(_session_open(day).timestamp()) // 60
            runs.append(np.arange(start, start + SESSION_MINUTES, dtype=np.int64))
        day += timedelta(days=1)
    return np.concatenate(runs)


def affine_scan(a: FloatArray, b: FloatArray, x0: float, chunk: int = 256) -> FloatArray:
    """Solve x[k] = a[k] * x[k-1] + b[k] from x[-1] = x0, vectorised in chunks (0 < a <= 1)."""
    out = np.empty_like(b)
    x = x0
    for s in range(0, b.shape[0], chunk):
        p = np.cumprod(a[s : s + chunk])
        out[s : s + chunk] = p * (x + np.cumsum(b[s : s + chunk] / p))
        x = float(out[min(s + chunk, b.shape[0]) - 1])
    return out


def _regime_path(spec: MarketSpec, n: int, rng: np.random.Generator) -> npt.NDArray[np.int8]:
    codes = np.empty(n, dtype=np.int8)
    weights = np.asarray(spec.regime_weights, dtype=np.float64)
    pos, current = 0, int(rng.choice(3, p=weights / weights.sum()))
    while pos < n:
        length = int(
            np.clip(
                rng.lognormal(np.log(spec.regime_median_minutes), 0.8),
                spec.regime_min_minutes,
                spec.regime_max_minutes,
            )
        )
        codes[pos : pos + length] = current
        pos += length
        w = weights.copy()
        w[current] = 0.0  # a switch always changes regime
        current = int(rng.choice(3, p=w / w.sum()))
    return codes


def _minute_volatility(spec: MarketSpec, minutes: IntArray, rng: np.random.Generator) -> FloatArray:
    """Per-minute sd of the fair value, in price: AR(1) log-vol times a time-of-day profile."""
    n = int(minutes.shape[0])
    phi = spec.vol_persistence
    shocks = rng.normal(0.0, spec.vol_of_vol, size=n)
    log_vol = affine_scan(np.full(n, phi), shocks, 0.0)
    hour = (minutes // 60) % 24
    profile = np.where((hour >= 13) & (hour < 20), 1.35, np.where((hour >= 22) | (hour < 6), 0.7, 1.0))
    return spec.vol_ticks_per_minute * spec.tick_size * profile * np.exp(log_vol - log_vol.mean())


def _fair_value(
    spec: MarketSpec,
    tick_minute_idx: IntArray,
    dt: FloatArray,
    regime: npt.NDArray[np.int8],
    vol: FloatArray,
    rng: np.random.Generator,
) -> FloatArray:
    """Fair value at every tick, regime by regime (one vectorised scan per regime run)."""
    n = int(tick_minute_idx.shape[0])
    x = np.empty(n)
    tick_regime = regime[tick_minute_idx]
    sigma = vol[tick_minute_idx]
    eps = rng.normal(0.0, 1.0, size=n)
    theta = np.log(2.0) / spec.range_half_life_minutes
    cuts = np.flatnonzero(np.diff(tick_regime)) + 1
    level = spec.start_price
    for s, e in zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [n])), strict=True):
        code = int(tick_regime[s])
        d, sg, z = dt[s:e], sigma[s:e], eps[s:e]
        if code == RANGE:
            a = np.exp(-theta * d)
            y = affine_scan(a, sg * np.sqrt((1.0 - a * a) / (2.0 * theta)) * z, 0.0)
            x[s:e] = level + y
        else:
            drift = 0.0
            if code == TREND:
                drift = _trend_sign(spec, level, rng) * spec.trend_drift_sigmas * float(sg.mean())
            x[s:e] = level + np.cumsum(drift * d + sg * np.sqrt(d) * z)
        level = float(x[e - 1])
    # Log-price: identical near the start price, and never zero or negative however far a path wanders.
    return spec.start_price * np.exp((x - spec.start_price) / spec.start_price)


def _trend_sign(spec: MarketSpec, level: float, rng: np.random.Generator) -> float:
    distance = (level - spec.start_price) / (spec.reversion_scale * spec.start_price)
    p_up = 1.0 / (1.0 + np.exp(np.clip(distance, -50.0, 50.0)))
    return 1.0 if rng.random() < p_up else -1.0


def generate(spec: MarketSpec) -> SyntheticMarket:
    """Generate the market described by `spec` (deterministic for a given spec)."""
    rng = np.random.default_rng(spec.seed)
    minutes = session_minutes(spec)
    n_min = minutes.shape[0]
    regime = _regime_path(spec, n_min, rng)
    vol = _minute_volatility(spec, minutes, rng)
    base_vol = spec.vol_ticks_per_minute * spec.tick_size
    counts = 1 + rng.poisson(spec.ticks_per_minute * np.clip(vol / base_vol, 0.3, 4.0) - 1.0)
    tick_minute_idx = np.repeat(np.arange(n_min), counts)
    offsets = rng.uniform(0.0, 60.0, tick_minute_idx.shape[0])
    # Sort within each minute: minute index dominates, offsets break ties.
    order = np.lexsort((offsets, tick_minute_idx))
    offsets = offsets[order]
    time = minutes[tick_minute_idx] * 60.0 + offsets
    dt = np.diff(time, prepend=time[0] - 1.0) / 60.0
    dt = np.minimum(dt, 1.0)  # a session break is not a minute of diffusion
    fair = _fair_value(spec, tick_minute_idx, dt, regime, vol, rng)
    if spec.jump_prob_per_minute > 0:
        jumps = rng.random(n_min) < spec.jump_prob_per_minute
        sizes = (
            jumps
            * rng.choice((-1, 1), n_min)
            * rng.integers(spec.jump_ticks // 2, spec.jump_ticks * 2, n_min)
        )
        # In log-price too (a jump of k ticks at the start price), so a jump never makes a price negative.
        fair = fair * np.exp(np.cumsum(sizes)[tick_minute_idx] * spec.tick_size / spec.start_price)
    fair_ticks = fair / spec.tick_size
    wide = rng.random(fair.shape[0]) < spec.wide_spread_prob
    bid = np.where(wide, np.round(fair_ticks) - 1, np.floor(fair_ticks)).astype(np.int64)
    bid = np.maximum(bid, 1)  # a quote is at least one tick, even for a market spec'd near zero
    ask = np.where(wide, bid + 2, bid + 1)
    buyer = rng.random(fair.shape[0]) < 0.5
    last = np.where(buyer, ask, bid)
    size = rng.geometric(0.45, size=int(fair.shape[0])).astype(np.int64)
    ticks = TickTape(spec.tick_size, time, bid, ask, last, size)
    bars = _bars_from_ticks(spec, minutes, counts, last, size)
    return SyntheticMarket(spec=spec, ticks=ticks, bars=bars, truth=regime)


def _bars_from_ticks(
    spec: MarketSpec, minutes: IntArray, counts: IntArray, last: IntArray, size: IntArray
) -> BarSeries:
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    ends = starts + counts - 1
    tick = spec.tick_size
    return BarSeries.from_arrays(
        spec.symbol,
        minutes,
        np.round(last[starts] * tick, 10),
        np.round(np.maximum.reduceat(last, starts) * tick, 10),
        np.round(np.minimum.reduceat(last, starts) * tick, 10),
        np.round(last[ends] * tick, 10),
        np.add.reduceat(size, starts).astype(np.float64),
        max_fill_minutes=5,
    )


def sessions_before(moment: datetime, spec: MarketSpec | None = None) -> int:
    """How many sessions of the synthetic calendar open before `moment`."""
    spec = spec or MarketSpec()
    count, day = 0, spec.first_day
    while _session_open(day) < moment:
        count += day.weekday() < 5 or not spec.session_gaps
        day += timedelta(days=1)
    return count


def sessions_after(moment: datetime, days: int, seed: int = 7) -> SyntheticMarket:
    """`days` sessions of the market of `seed` that open at or after `moment`: the same calendar continued,
    so a model trained on its earlier sessions meets sessions it has never seen (a later part of a longer
    draw, never a replay of the training sessions' path)."""
    before = sessions_before(moment)
    market = synthetic_days(before + days, seed)
    if before == 0:
        return market
    cut = int(session_minutes(replace(market.spec, days=before))[-1]) + 1
    return market.part(cut)


def synthetic_days(days: int, seed: int = 7, **overrides: object) -> SyntheticMarket:
    """Shorthand: `days` weekday sessions of the default CL-like market."""
    return generate(replace(MarketSpec(days=days, seed=seed), **overrides))  # type: ignore[arg-type]
