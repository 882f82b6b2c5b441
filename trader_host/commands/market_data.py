"""The market a command runs on: synthetic sessions or a bars file (what `train` and `backtest` share)."""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from regime.bar_series import BarSeries, datetime_of, minute_of
from regime.synthetic import SyntheticMarket
from trader_host.commands.user_error import UserError

if TYPE_CHECKING:
    from trading_engine.broker.sim.market_tape import MarketTape
    from trading_engine.instruments import ContractSpec

log = logging.getLogger(__name__)


def add_market_arguments(parser: argparse.ArgumentParser, *, default_seed: int = 7) -> None:
    """--synthetic-days | --bars, --symbol, --seed."""
    src = parser.add_mutually_exclusive_group()
    src.add_argument(
        "--synthetic-days", type=_sessions, default=30, help="weekday sessions of synthetic market"
    )
    src.add_argument(
        "--bars",
        type=Path,
        help="CSV or Parquet of 1-minute bars (ts_utc, open, high, low, close, volume[, contract_approx])",
    )
    parser.add_argument(
        "--symbol", help="symbol of the bars file (CL, MCL, MES; default: the file name prefix)"
    )
    parser.add_argument("--seed", type=int, default=default_seed, help="seed of the synthetic market")
    parser.add_argument(
        "--start", type=utc_argument, help="bars file: first minute to use (UTC, e.g. 2026-02-10)"
    )
    parser.add_argument("--end", type=utc_argument, help="bars file: use bars before this moment (UTC)")


def _asked(start: datetime | None, end: datetime | None) -> str:
    flags = (("from --start", start), ("before --end", end))
    return " and ".join(f"{what} {ts:%Y-%m-%d %H:%M}" for what, ts in flags if ts)


def _span(series: BarSeries) -> str:
    first, last = datetime_of(int(series.minute[0])), datetime_of(int(series.minute[-1]))
    return f"the file holds {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"


def _sessions(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of sessions: {text!r}") from None
    if days < 1:
        raise argparse.ArgumentTypeError(f"at least one session is needed, got {days}")
    return days


def utc_argument(text: str) -> datetime:
    """An ISO date or time as a UTC moment (naive = UTC), or the argparse error naming it."""
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {text!r}") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


@dataclass(frozen=True)
class MarketData:
    """Bars to run on; the synthetic market (ticks and true regime) when there is one."""

    series: BarSeries
    source: str
    summary: str
    market: SyntheticMarket | None = None
    rows: int = 0
    rejected: list[str] = field(default_factory=list)
    rejected_count: int = 0

    @property
    def truth(self) -> npt.NDArray[np.int8] | None:
        return None if self.market is None else self.market.truth

    def describe(self) -> dict[str, Any]:
        """What a report says about its data."""
        out: dict[str, Any] = {"source": self.source, "summary": self.summary}
        if self.market is None:
            out.update(rows=self.rows, rejected_count=self.rejected_count, rejected=self.rejected)
        return out


def large_arrays_freed_promptly() -> None:
    """Have glibc's allocator give every large block back to the system when it is freed.

    Its default raises the size it serves from the heap each time a large block is freed, so the tape's
    temporaries (tens of MB each) end up on the heap and stay in the process after use: the peak memory of a
    backtest of a year of MES grew by about 100 MB. Elsewhere than glibc, nothing to do."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name is None:
        return
    libc = ctypes.CDLL(name)
    if hasattr(libc, "mallopt"):
        libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)  # glibc's initial threshold, now fixed


_M_MMAP_THRESHOLD = -3


def market_source(args: argparse.Namespace) -> dict[str, Any]:
    """The market the arguments name, as a model's metadata records what it was trained on."""
    if args.bars is None:
        return {"synthetic_days": args.synthetic_days, "seed": args.seed}
    return {"file": args.bars.name, "start": str(args.start or ""), "end": str(args.end or "")}


def load_market_data(args: argparse.Namespace) -> MarketData:
    """Generate or read the market the arguments name; malformed rows of a file are reported, set aside."""
    start, end = getattr(args, "start", None), getattr(args, "end", None)
    if args.bars is None and (start or end):
        raise ValueError(
            "--start/--end select part of a --bars file; for synthetic data use --synthetic-days"
        )
    if args.bars is not None:
        from regime.bar_file import load_bar_file

        loaded = load_bar_file(args.bars, symbol=args.symbol)
        series = loaded.series
        if start or end:
            lo = minute_of(start) if start else int(series.minute[0])
            hi = minute_of(end) if end else int(series.minute[-1]) + 1
            series = series.take(np.flatnonzero((series.minute >= lo) & (series.minute < hi)))
            if len(series) == 0:
                raise UserError(f"{args.bars}: no bars {_asked(start, end)}; {_span(loaded.series)}")
        log.info("%s", loaded.summary())
        if loaded.rejected_count:
            log.warning(
                "%s: %d malformed row(s) set aside, e.g. %s",
                args.bars,
                loaded.rejected_count,
                "; ".join(loaded.rejected[:3]),
            )
        span = f" from {start:%Y-%m-%d %H:%M}" if start else ""
        span += f" until {end:%Y-%m-%d %H:%M}" if end else ""
        return MarketData(
            series,
            str(args.bars) + span,
            loaded.summary() + (f"; {len(series):,} bars{span}" if span else ""),
            rows=loaded.rows,
            rejected=loaded.rejected,
            rejected_count=loaded.rejected_count,
        )
    from regime.synthetic import synthetic_days

    market = synthetic_days(args.synthetic_days, seed=args.seed)
    return MarketData(
        market.bars,
        f"synthetic: {args.synthetic_days} sessions, seed {args.seed}",
        f"{len(market.bars):,} bars, {len(market.ticks):,} ticks",
        market=market,
    )


def split_at(data: MarketData, moment: datetime) -> tuple[MarketData, MarketData]:
    """The data before `moment` and from it (a held-out test set cut from one file or market)."""
    minute = minute_of(moment)
    span = f"{moment:%Y-%m-%d %H:%M}"
    parts = []
    for keep, words in (
        (data.series.minute < minute, f" before {span}"),
        (data.series.minute >= minute, f" from {span}"),
    ):
        idx = np.flatnonzero(keep)
        if idx.size == 0:
            raise ValueError(f"{data.source}: no bars{words}: the test set needs data on both sides of it")
        market = None
        if data.market is not None:
            market = data.market.part(minute) if words.startswith(" from") else data.market.part(0, minute)
        series = data.series.take(idx)
        parts.append(
            MarketData(series, data.source + words, f"{len(series):,} bars{words}", market, data.rows)
        )
    return parts[0], parts[1]


def selection_and_test(args: argparse.Namespace) -> tuple[MarketData, MarketData | None]:
    """The selection data and the held-out test data the arguments name (--test-bars FILE, or --test-start
    on the same data), or (data, None); the test data must begin after the selection data ends."""
    data = load_market_data(args)
    test_start, test_bars = getattr(args, "test_start", None), getattr(args, "test_bars", None)
    if test_start is not None:
        return split_at(data, test_start)
    if test_bars is None:
        return data, None
    test = load_market_data(
        argparse.Namespace(**{**vars(args), "bars": test_bars, "start": None, "end": None})
    )
    if int(test.series.minute[0]) <= int(data.series.minute[-1]):
        raise ValueError(
            f"--test-bars {test_bars}: begins at {datetime_of(int(test.series.minute[0])):%Y-%m-%d %H:%M}, "
            f"before the selection data ends ({datetime_of(int(data.series.minute[-1])):%Y-%m-%d %H:%M}); "
            "held-out data must come after it"
        )
    return data, test


def spec_and_tape(
    args: argparse.Namespace, data: MarketData, spread_ticks: int
) -> tuple[ContractSpec, MarketTape]:
    """The contract and the replayable tape of loaded market data (bars file or synthetic market)."""
    from trading_engine.broker.sim.market_tape import MarketTape
    from trading_engine.instruments import SYNTHETIC_SESSION, contract

    if data.market is None:
        spec = contract(args.symbol or data.series.symbol)
        return spec, MarketTape.from_bars(data.series, spec, spread_ticks)
    spec = contract(args.symbol or data.market.spec.symbol).with_session(SYNTHETIC_SESSION)
    return spec, MarketTape.from_synthetic(data.market)
