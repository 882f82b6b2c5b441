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
from datetime import datetime
from pathlib import Path
from typing import Any

from regime.bar_series import BarSeries, datetime_of
from regime.contracts.zscore_window import window_mismatch
from regime.inference import RegimeModel
from trader_host.commands.market_data import add_market_arguments, load_market_data, market_source
from trading_engine.backtest.regime_choices import CHOICES, regime_source
from trading_engine.backtest.report import BacktestResult, ml_capture, table, to_json
from trading_engine.backtest.risk_caps import without_risk_caps
from trading_engine.backtest.runner import run_backtest
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import ConfigError, FeesConfig, HostConfig, load_config
from trading_engine.fees import SCHEDULES, FeeSchedule, fee_schedule, preset_mismatch
from trading_engine.instruments import SYNTHETIC_SESSION, ContractSpec, UnknownInstrument, contract
from trading_engine.regime_source import RegimeSource

log = logging.getLogger(__name__)
# Per-order logs are for live sessions and -v; a backtest places tens of thousands of orders.
_CHATTY = (
    "trading_engine.trader",
    "trading_engine.execution",
    "trading_engine.broker",
    "trading_engine.session",
)


def register(sub: Any) -> None:
    p = sub.add_parser("backtest")
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        if args.fees:
            config = dataclasses.replace(config, fees=FeesConfig(schedule=args.fees))
        if args.no_risk_caps:
            config = without_risk_caps(config)
        if not getattr(args, "verbose", False):
            for name in _CHATTY:
                logging.getLogger(name).setLevel(logging.WARNING)
            # Daily-loss stops are routine per-day events in every column; the table shows their effect.
            logging.getLogger("trading_engine.risk").setLevel(logging.ERROR)
        meta: dict[str, Any] = {"config": str(args.config or "config/strategy.toml")}
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
        choices = _choices(args.regimes, has_truth=truth is not None, has_model=args.model is not None)
        if args.model is not None and "ml" in choices:  # where the trigger and the model's feature meet
            metadata = RegimeModel.load(args.model).metadata
            mismatch = window_mismatch(config.strategy.lookback_bars, metadata.zscore_window)
            if mismatch:
                log.warning("backtest: %s", mismatch)
            overlap = in_sample(metadata.training_range, market_source(args), series)
            if overlap:
                log.warning("backtest: %s", overlap)
        meta.update(symbol=spec.symbol, bars=len(series), ticks=tape.n_ticks, regimes=choices)
        results: list[BacktestResult] = []
        for choice in choices:
            source = regime_source(
                choice,
                series,
                model_path=args.model,
                truth=truth,
                seed=args.seed,
                tick_size=float(spec.tick_size),
            )
            result = _column(choice, fast, tape, spec, config, fees, source)
            result = dataclasses.replace(result, risk_caps_lifted=bool(args.no_risk_caps))
            log.info(
                "%s: %d trips, net %s USD (%.1fs, %.0f ticks/s)",
                choice,
                result.trades,
                result.net_usd,
                result.seconds,
                result.ticks / max(result.seconds, 1e-9),
            )
            results.append(result)
    except (ConfigError, UnknownInstrument, ValueError, FileNotFoundError) as exc:
        log.error("backtest: %s", exc)
        return 2
    print(
        f"{spec.symbol}: {meta['source']}; {len(series):,} bars, {tape.n_ticks:,} ticks; fees {fees.name} "
        f"({fees.per_side_usd} USD/side)"
    )
    print(table(results))
    capture = ml_capture(results)
    if capture is not None:
        print("ML captures " + ", ".join(_share(capture[k], k) for k in ("gross_usd", "net_usd")))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(to_json(results, meta))
        print(f"results written to {args.json}")
    return 0


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
    from trading_engine.backtest.fast.engine import FastEngine  # numba: imported only when used

    return FastEngine(tape, spec, fees)


def _column(
    name: str,
    fast: Any,
    tape: MarketTape,
    spec: ContractSpec,
    config: HostConfig,
    fees: FeeSchedule,
    source: RegimeSource,
) -> BacktestResult:
    """One column, on the fast engine when asked (the reference when it meets what the fast one does not
    model, which it says)."""
    if fast is not None:
        from trading_engine.backtest.fast.engine import FastEngineUnsupported, run_fast_backtest

        try:
            return run_fast_backtest(name, fast, config, source)[0]
        except FastEngineUnsupported as exc:
            log.warning("backtest %s: %s; running the reference engine instead", name, exc)
    return run_backtest(name, tape, spec, config, fees, source)[0]


def _share(value: float, key: str) -> str:
    what = key.removesuffix("_usd")
    if math.isnan(value):
        return f"nothing of the {what} (the hindsight {what} P&L is not positive)"
    return f"{value:.0%} of the hindsight {what} P&L"


def _choices(requested: str | None, *, has_truth: bool, has_model: bool) -> list[str]:
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
