"""Read 1-minute bars from a CSV or Parquet file (training and backtests; pandas imported lazily).

Expected columns: a timestamp (`ts_utc` or `ts`, the bar's UTC open time), open, high, low, close, volume,
and optionally a contract column (`contract`, `contract_approx` or `instrument_id`) that marks rolls.
Rows that break the Bar contract are set aside and reported, never silently dropped; duplicated minutes keep
their last row. A value outside the contract's bounds (a price of 1e300, a bar in year 9999) or a file
without a single bar is an error naming the row: the file is in the wrong units or broken, not a market.
Gaps and rolls are handled by BarSeries's gap policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from regime.bar_series import BarSeries
from regime.contracts.bar import (
    FIRST_BAR,
    LAST_BAR,
    MAX_PRICE,
    MAX_VOLUME,
    BarError,
    check_bar_bounds,
)

TS_COLUMNS = ("ts_utc", "ts", "timestamp")
CONTRACT_COLUMNS = ("contract", "contract_approx", "instrument_id")
PRICE_COLUMNS = ("open", "high", "low", "close")


@dataclass(frozen=True)
class BarFile:
    """A loaded file: its series and an account of what was set aside or filled."""

    series: BarSeries
    path: Path
    rows: int
    rejected: list[str] = field(default_factory=list)  # "row N: reason", at most MAX_REPORTED
    rejected_count: int = 0
    duplicates: int = 0

    @property
    def filled(self) -> int:
        return int(self.series.filled.sum())

    @property
    def segments(self) -> int:
        return len(self.series.segment_bounds())

    def summary(self) -> str:
        return (
            f"{self.path.name}: {self.rows} rows, {len(self.series)} bars after filling {self.filled} quiet "
            f"minutes, {self.segments} gap-free segments (longer gaps and contract rolls cut), "
            f"{self.rejected_count} rows set aside, {self.duplicates} duplicate minutes"
        )


MAX_REPORTED = 20


def symbol_from_name(path: Path) -> str:
    """'MCL_1m_2026-01-15_2026-02-27.csv' -> 'MCL'."""
    match = re.match(r"[A-Za-z0-9]+", path.stem)
    return match.group(0).upper() if match else "UNKNOWN"


def load_bar_file(path: Path | str, *, symbol: str | None = None, max_fill_minutes: int = 5) -> BarFile:
    """Load, validate and regularise a bars file; raise BarError if a required column is missing."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"bars file not found: {path}")
    if not path.is_file():
        raise BarError(f"{path}: not a file (a bars file is one CSV or Parquet file)")
    df = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    ts_col = next((c for c in TS_COLUMNS if c in df.columns), None)
    missing = [c for c in (*PRICE_COLUMNS, "volume") if c not in df.columns]
    if ts_col is None or missing:
        need = ([] if ts_col else ["ts_utc"]) + missing
        raise BarError(
            f"{path.name}: missing column(s) {', '.join(need)}; found {', '.join(map(str, df.columns))}"
        )
    rows = len(df)
    ts = pd.to_datetime(df[ts_col], utc=True, errors="coerce")
    prices = df[list(PRICE_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    volume = pd.to_numeric(df["volume"], errors="coerce")
    o, h, lo, c = (prices[k].to_numpy(np.float64) for k in PRICE_COLUMNS)
    checks = [
        (ts.isna().to_numpy(), "timestamp is not a date"),
        (
            ~np.isfinite(prices.to_numpy(np.float64)).all(axis=1)
            | (prices.to_numpy(np.float64) <= 0).any(axis=1),
            "a price is missing, not a number or not positive",
        ),
        (~np.isfinite(volume.to_numpy(np.float64)) | (volume.to_numpy(np.float64) < 0), "volume is bad"),
        ((lo > np.minimum(o, c)) | (h < np.maximum(o, c)), "low <= open,close <= high does not hold"),
        (
            ts.notna().to_numpy() & ((ts.dt.second != 0) | (ts.dt.microsecond != 0)).to_numpy(),
            "timestamp is not a minute start",
        ),
    ]
    bad = np.zeros(rows, dtype=bool)
    found: list[tuple[int, str]] = []  # (file line, first reason), line 1 being the header
    for mask, reason in checks:
        found.extend((int(i) + 2, reason) for i in np.flatnonzero(mask & ~bad)[:MAX_REPORTED])
        bad |= mask
    reasons = [f"row {line}: {reason}" for line, reason in sorted(found)[:MAX_REPORTED]]
    _refuse_out_of_bounds(path, ts, prices, volume, ~bad)
    if not (~bad).any():
        raise BarError(f"{path.name}: no bars ({rows} data rows" + (", all set aside)" if rows else ")"))
    epoch_minute = ts.dt.tz_convert(None).to_numpy().astype("datetime64[m]").astype(np.int64)
    good = df.assign(_minute=epoch_minute)[~bad]
    good = good.sort_values("_minute", kind="stable")
    deduped = good.drop_duplicates("_minute", keep="last")
    contract_col = next((k for k in CONTRACT_COLUMNS if k in df.columns), None)
    col = {k: pd.to_numeric(deduped[k]).to_numpy(np.float64) for k in (*PRICE_COLUMNS, "volume")}
    series = BarSeries.from_arrays(
        symbol or symbol_from_name(path),
        deduped["_minute"].to_numpy(np.int64),
        col["open"],
        col["high"],
        col["low"],
        col["close"],
        col["volume"],
        max_fill_minutes=max_fill_minutes,
        contract=deduped[contract_col].astype(str).to_numpy() if contract_col else None,
    )
    return BarFile(series, path, rows, reasons, int(bad.sum()), len(good) - len(deduped))


def _refuse_out_of_bounds(path: Path, ts: Any, prices: Any, volume: Any, valid: Any) -> None:
    """A BarError naming the first well-formed row outside the Bar contract's bounds, if any."""
    p = prices.to_numpy(np.float64)
    v = volume.to_numpy(np.float64)
    out = valid & (
        (p > MAX_PRICE).any(axis=1)
        | (v > MAX_VOLUME)
        | (ts < FIRST_BAR).to_numpy()
        | (ts >= LAST_BAR).to_numpy()
    )
    if out.any():
        i = int(np.flatnonzero(out)[0])
        problem = check_bar_bounds(
            prices=dict(zip(PRICE_COLUMNS, map(float, p[i]), strict=True)),
            volume=float(v[i]),
            ts=ts.iloc[i].to_pydatetime(),
        )
        raise BarError(f"{path.name} row {i + 2}: {problem} ({int(out.sum())} such row(s))")
