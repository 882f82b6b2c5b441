"""`regime-trader backtest`: the strategy over synthetic days or a bars file, one column per regime source.

Every column runs the same Trader, TradingSession and SimBroker (virtual clock) as a live session; only the
regime source differs: the ONNX ensemble (batch inference at every 5-minute boundary), the true regime
(synthetic data), always-range, always-trend, and random.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from regime.bar_series import BarSeries, datetime_of
from regime.contracts.zscore_window import window_mismatch
from trader_host.analytics.progress import Progress
from trader_host.commands.market_data import (
    add_market_arguments,
    large_arrays_freed_promptly,
    load_market_data,
    market_source,
)
from trading_engine.backtest.backtest_results import ml_capture, table, to_json
from trading_engine.backtest.columns import RANDOM_SEEDS, Market, pnl_lines, random_band, run_columns
from trading_engine.backtest.regime_choices import CHOICES
from trading_engine.backtest.risk_caps import without_risk_caps
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import ConfigError, FeesConfig, HostConfig, load_config
from trading_engine.fees import SCHEDULES, FeeSchedule, fee_schedule, preset_mismatch
from trading_engine.instruments import SYNTHETIC_SESSION, ContractSpec, UnknownInstrument, contract

log = logging.getLogger(__name__)
# Per-order logs are for live sessions and -v; a backtest places tens of thousands of orders.
_CHATTY = (
    "trading_engine.trader",
    "trading_engine.execution",
    "trading_engine.broker",
    "trading_engine.session",
)


def register(p: argparse.ArgumentParser) -> None:
    """The subcommand's arguments."""
    add_market_arguments(p)  # --seed also seeds the random regime
    p.add_argument("--model", type=Path, help="ensemble.onnx for the 'ml' column (see `regime-trader train`)")
    p.add_argument(
        "--regimes",
        default=None,
        help=f"comma-separated columns among {','.join(CHOICES)} (default: all that apply)",
    )
    p.add_argument("--config", type=Path, help="strategy config (default: config/strategy.toml)")
    p.add_argument(
        "--fees",
        choices=SCHEDULES,
        help="fees: the article's CL presets retail|tiered|none, or IBKR's published fees for the symbol "
        "ib-fixed|ib-tiered (default: from the config)",
    )
    p.add_argument(
        "--no-risk-caps",
        action="store_true",
        help="research: no daily loss limit, no orders-per-minute limit (the table says LIFTED)",
    )
    p.add_argument(
        "--engine",
        choices=("fast", "reference"),
        default="fast",
        help="fast: the compiled engine, checked fill for fill against the reference (tick-level live code)",
    )
    p.add_argument("--json", type=Path, help="also write the results as JSON here")
    p.add_argument(
        "--random-seeds",
        type=int,
        default=RANDOM_SEEDS,
        help="random regime draws for its band (fast engine)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run)


def run_config(args: argparse.Namespace) -> HostConfig:
    """The config a research run trades: --config, with --fees and --no-risk-caps applied."""
    config = load_config(args.config)
    if args.fees:
        config = dataclasses.replace(config, fees=FeesConfig(schedule=args.fees))
    return without_risk_caps(config) if args.no_risk_caps else config


def run(args: argparse.Namespace) -> int:
    try:
        config = run_config(args)
        quiet_order_logs(args)
        meta: dict[str, Any] = {"config": str(args.config or "config/strategy.toml")}
        large_arrays_freed_promptly()
        data = load_market_data(args)
        series, truth = data.series, data.truth
        if data.market is None:
            spec = contract(args.symbol or series.symbol)
            tape = MarketTape.from_bars(series, spec, config.sim.spread_ticks)
            meta.update(source=data.source, rows=data.rows, rejected=data.rejected_count)
        else:
            spec = contract(args.symbol or data.market.spec.symbol).with_session(SYNTHETIC_SESSION)
            tape = MarketTape.from_synthetic(data.market)
            meta.update(source=data.source)
        fees = fee_schedule(config.fees.schedule, spec.symbol)
        mismatch = preset_mismatch(fees, spec.symbol)
        if mismatch:
            log.warning("backtest: %s", mismatch)
        meta.update(fees=fees.name, risk_caps="lifted" if args.no_risk_caps else "on", engine=args.engine)
        fast = _fast_engine(tape, spec, fees) if args.engine == "fast" else None
        choices = columns_to_run(args.regimes, has_truth=truth is not None, has_model=args.model is not None)
        if args.model is not None and "ml" in choices:  # where the trigger and the model's feature meet
            from regime.inference import RegimeModel  # onnxruntime: imported only when a model is used

            metadata = RegimeModel.load(args.model).metadata
            mismatch = window_mismatch(config.strategy.lookback_bars, metadata.zscore_window)
            if mismatch:
                log.warning("backtest: %s", mismatch)
            overlap = in_sample(metadata.training_range, market_source(args), series)
            if overlap:
                log.warning("backtest: %s", overlap)
        meta.update(symbol=spec.symbol, bars=len(series), ticks=tape.n_ticks, regimes=choices)
        market = Market(series, truth, tape, spec, config, fees, fast)
        step = progress_steps(len(choices) + 1, "backtest", args.no_progress)
        columns = run_columns(market, choices, model_path=args.model, seed=args.seed, step=step)
        band = random_band(market, args.random_seeds, step) if "random" in choices else None
        results = [r for r, _ in columns]
        for result in results:
            log.info(
                "%s: %d trips, net %s USD (%.1fs, %.0f ticks/s)",
                result.name,
                result.trades,
                result.net_usd,
                result.seconds,
                result.ticks / max(result.seconds, 1e-9),
            )
    except (ConfigError, UnknownInstrument, ValueError, FileNotFoundError) as exc:
        log.error("backtest: %s", exc)
        return 2
    print(
        f"{spec.symbol}: {meta['source']}; {len(series):,} bars, {tape.n_ticks:,} ticks; fees {fees.name} "
        f"({fees.per_side_usd} USD/side)"
    )
    print(table(results))
    print(pnl_lines(columns, band))
    capture = ml_capture(results)
    if capture is not None:
        print("ML captures " + ", ".join(_share(capture[k], k) for k in ("gross_usd", "net_usd")))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        meta.update(pnl={r.name: p for r, p in columns}, random_seeds=band)
        args.json.write_text(to_json(results, meta))
        print(f"results written to {args.json}")
    return 0


def progress_steps(total: int, command: str, quiet: bool) -> Callable[[str], None]:
    """A step function printing progress lines on stderr (after the first second), or nothing."""
    progress = Progress(total)

    def step(label: str) -> None:
        if not quiet:
            progress.step(f"{command}: {label}")

    return step


def quiet_order_logs(args: argparse.Namespace) -> None:
    """Per-order logs only with -v (a backtest places tens of thousands of orders)."""
    if getattr(args, "verbose", False):
        return
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
    # Daily-loss stops are routine per-day events in every column; the table shows their effect.
    logging.getLogger("trading_engine.risk").setLevel(logging.ERROR)


def in_sample(trained_on: dict[str, Any], source: dict[str, Any], series: BarSeries) -> str | None:
    """What of the backtest's bars the model was trained on (its 'ml' column then flatters it), or None."""
    same_data = (
        trained_on.get("file") == source.get("file")
        if "file" in source
        else (trained_on.get("seed") == source.get("seed") and "synthetic_days" in trained_on)
    )
    if not same_data or "first_window_end" not in trained_on:
        return None
    first, last = (datetime.fromisoformat(trained_on[k]) for k in ("first_window_end", "last_window_end"))
    lo, hi = datetime_of(int(series.minute[0])), datetime_of(int(series.minute[-1]) + 1)
    if hi <= first or lo >= last:
        return None
    return (
        f"the model was trained on these bars ({first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC): its "
        f"'ml' column is in sample; backtest from --start {last:%Y-%m-%d} or on another --seed"
    )


def _fast_engine(tape: MarketTape, spec: ContractSpec, fees: FeeSchedule) -> Any:
    from trading_engine.backtest.fast.fast_engine import FastEngine  # numba: imported only when used

    return FastEngine(tape, spec, fees)


def _share(value: float, key: str) -> str:
    what = key.removesuffix("_usd")
    if math.isnan(value):
        return f"nothing of the {what} (the hindsight {what} P&L is not positive)"
    return f"{value:.0%} of the hindsight {what} P&L"


def columns_to_run(requested: str | None, *, has_truth: bool, has_model: bool) -> list[str]:
    if requested:
        names = [c.strip() for c in requested.split(",") if c.strip()]
        unknown = [c for c in names if c not in CHOICES]
        if unknown:
            raise ValueError(f"--regimes: unknown {', '.join(unknown)}; choose from {', '.join(CHOICES)}")
        return names
    return [c for c in CHOICES if (c != "truth" or has_truth) and (c != "ml" or has_model)]


def results_json(path: Path) -> dict[str, Any]:
    """Read back a --json file (tests, notebooks)."""
    data: dict[str, Any] = json.loads(path.read_text())
    return data
