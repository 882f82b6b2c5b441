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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

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


@dataclass(frozen=True)
class _Columns:
    """A file's columns as numbers: what the checks and the series are made from."""

    names: list[str]
    micros: npt.NDArray[np.int64]  # UTC microseconds since the epoch; _NOT_A_DATE where unreadable
    prices: npt.NDArray[np.float64]  # (rows, 4): open, high, low, close; NaN where not a number
    volume: npt.NDArray[np.float64]
    contract: npt.NDArray[np.object_] | None  # str per row


_NOT_A_DATE = np.iinfo(np.int64).min
_MINUTE_US = 60_000_000


def load_bar_file(path: Path | str, *, symbol: str | None = None, max_fill_minutes: int = 5) -> BarFile:
    """Load, validate and regularise a bars file; raise BarError if a required column is missing."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"bars file not found: {path}")
    if not path.is_file():
        raise BarError(f"{path}: not a file (a bars file is one CSV or Parquet file)")
    cols = _read_clean(path) or _read_coercing(path)
    micros, prices, volume = cols.micros, cols.prices, cols.volume
    rows = micros.shape[0]
    o, h, lo, c = prices.T
    not_date = micros == _NOT_A_DATE
    checks = [
        (not_date, "timestamp is not a date"),
        (
            ~np.isfinite(prices).all(axis=1) | (prices <= 0).any(axis=1),
            "a price is missing, not a number or not positive",
        ),
        (~np.isfinite(volume) | (volume < 0), "volume is bad"),
        ((lo > np.minimum(o, c)) | (h < np.maximum(o, c)), "low <= open,close <= high does not hold"),
        (~not_date & (micros % _MINUTE_US != 0), "timestamp is not a minute start"),
    ]
    bad = np.zeros(rows, dtype=bool)
    found: list[tuple[int, str]] = []  # (file line, first reason), line 1 being the header
    for mask, reason in checks:
        found.extend((int(i) + 2, reason) for i in np.flatnonzero(mask & ~bad)[:MAX_REPORTED])
        bad |= mask
    reasons = [f"row {line}: {reason}" for line, reason in sorted(found)[:MAX_REPORTED]]
    _refuse_out_of_bounds(path, cols, ~bad)
    if not (~bad).any():
        raise BarError(f"{path.name}: no bars ({rows} data rows" + (", all set aside)" if rows else ")"))
    good = np.flatnonzero(~bad)
    minute = micros[good] // _MINUTE_US
    order = np.argsort(minute, kind="stable")
    good, minute = good[order], minute[order]
    last = np.append(minute[1:] != minute[:-1], True)  # a duplicated minute keeps its last row
    kept = good[last]
    series = BarSeries.from_arrays(
        symbol or symbol_from_name(path),
        minute[last],
        o[kept],
        h[kept],
        lo[kept],
        c[kept],
        volume[kept],
        max_fill_minutes=max_fill_minutes,
        contract=None if cols.contract is None else cols.contract[kept],
    )
    return BarFile(series, path, rows, reasons, int(bad.sum()), len(good) - len(kept))


def _named_columns(path: Path, names: list[str]) -> tuple[str, str | None]:
    """The timestamp and contract columns' names; a BarError naming the required columns the file lacks."""
    ts_col = next((c for c in TS_COLUMNS if c in names), None)
    missing = [c for c in (*PRICE_COLUMNS, "volume") if c not in names]
    if ts_col is None or missing:
        need = ([] if ts_col else ["ts_utc"]) + missing
        raise BarError(f"{path.name}: missing column(s) {', '.join(need)}; found {', '.join(names)}")
    return ts_col, next((k for k in CONTRACT_COLUMNS if k in names), None)


def _read_clean(path: Path) -> _Columns | None:
    """The columns read by pyarrow's typed parser (a tenth of pandas' time, without importing pandas), or
    None when a value needs the coercing reader: a missing value, a word in a number column, a timestamp
    pyarrow does not read, a contract column that is neither text nor whole numbers."""
    import pyarrow as pa

    # The system allocator: glibc gives large blocks back when they are freed (large_arrays_freed_promptly),
    # where pyarrow's own pool kept the parse's 60 MB for the rest of a backtest.
    pool = pa.system_memory_pool()
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        table = pq.read_table(path)
    else:
        import pyarrow.csv as pcsv

        table = pcsv.read_csv(path, memory_pool=pool)
    names = [str(n) for n in table.column_names]
    ts_col, contract_col = _named_columns(path, names)
    numeric = [table[k] for k in (*PRICE_COLUMNS, "volume")]
    ts = table[ts_col]
    contract = table[contract_col] if contract_col else None
    kinds = pa.types
    if (
        not kinds.is_timestamp(ts.type)
        or not all(kinds.is_integer(a.type) or kinds.is_floating(a.type) for a in numeric)
        or not (contract is None or kinds.is_integer(contract.type) or kinds.is_string(contract.type))
        or any(a.null_count for a in (ts, *numeric, *([] if contract is None else [contract])))
    ):
        return None
    count = _numpy(ts)  # in the column's unit
    unit = ts.type.unit
    micros = count // 1000 if unit == "ns" else count * {"s": 1_000_000, "ms": 1000, "us": 1}[unit]
    return _Columns(
        names,
        micros,
        np.stack([_numpy(a).astype(np.float64) for a in numeric[:4]], axis=1),
        _numpy(numeric[4]).astype(np.float64),
        None if contract is None else _texts(contract),
    )


def _numpy(column: Any) -> npt.NDArray[Any]:
    """A pyarrow column of numbers or timestamps (as int64) without nulls, as one numpy array made from
    its chunks' buffers (pyarrow's own conversions import pandas, and combining chunks pyarrow.compute)."""
    import pyarrow as pa

    kind = np.dtype(np.int64 if pa.types.is_timestamp(column.type) else column.type.to_pandas_dtype())
    chunks = column.chunks if hasattr(column, "chunks") else [column]
    parts = [np.frombuffer(c.buffers()[1], dtype=kind)[c.offset : c.offset + len(c)] for c in chunks]
    return np.concatenate(parts) if parts else np.zeros(0, kind)


def _texts(column: Any) -> npt.NDArray[np.object_]:
    """A pyarrow column of text or whole numbers as a numpy array of str (whole numbers written as pandas
    writes them: 2080 -> '2080')."""
    import pyarrow as pa

    if pa.types.is_integer(column.type):
        distinct, row = np.unique(_numpy(column), return_inverse=True)
        texts: npt.NDArray[np.object_] = np.array([str(v) for v in distinct.tolist()], dtype=object)
        per_row: npt.NDArray[np.object_] = texts[row]
        return per_row
    return np.array([text for chunk in column.chunks for text in chunk.to_pylist()], dtype=object)


def _read_coercing(path: Path) -> _Columns:
    """The columns read by pandas, every unreadable value coerced to NaN/NaT (to be set aside)."""
    import pandas as pd

    df = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    names = [str(n) for n in df.columns]
    ts_col, contract_col = _named_columns(path, names)
    ts = pd.to_datetime(df[ts_col], utc=True, errors="coerce")
    micros = ts.dt.tz_convert(None).to_numpy().astype("datetime64[us]").view(np.int64)
    prices = df[list(PRICE_COLUMNS)].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    volume = pd.to_numeric(df["volume"], errors="coerce").to_numpy(np.float64)
    contract = df[contract_col].astype(str).to_numpy(dtype=object) if contract_col else None
    return _Columns(names, micros, prices, volume, contract)


def _refuse_out_of_bounds(path: Path, cols: _Columns, valid: npt.NDArray[np.bool_]) -> None:
    """A BarError naming the first well-formed row outside the Bar contract's bounds, if any."""
    p, v, us = cols.prices, cols.volume, cols.micros
    out = valid & (
        (p > MAX_PRICE).any(axis=1) | (v > MAX_VOLUME) | (us < _micros(FIRST_BAR)) | (us >= _micros(LAST_BAR))
    )
    if out.any():
        i = int(np.flatnonzero(out)[0])
        problem = check_bar_bounds(
            prices=dict(zip(PRICE_COLUMNS, map(float, p[i]), strict=True)),
            volume=float(v[i]),
            ts=_EPOCH + timedelta(microseconds=int(us[i])),
        )
        raise BarError(f"{path.name} row {i + 2}: {problem} ({int(out.sum())} such row(s))")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(ts: datetime) -> int:
    return (ts - _EPOCH) // timedelta(microseconds=1)
