"""`regime-trader sweep`: a grid of strategy and label parameters, walk-forward, with overfitting control.

Every input is checked before the first backtest: the grid (unknown name, impossible value), the regime
source, the folds (too little data). Results are kept per configuration under --out, so an interrupted
sweep run again with the same arguments resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from regime.labels import LabelSpec
from trader_host.commands.market_data import add_market_arguments, load_market_data, spec_and_tape
from trading_engine.backtest.fast.engine import FastEngine
from trading_engine.backtest.regime_choices import CHOICES
from trading_engine.backtest.risk_caps import without_risk_caps
from trading_engine.config import ConfigError, load_config
from trading_engine.fees import SCHEDULES, fee_schedule
from trading_engine.instruments import UnknownInstrument
from trading_engine.sweep.executor import LocalExecutor, ResultStore
from trading_engine.sweep.grid import LABEL_PREFIX, GridError, expand, parse_grid
from trading_engine.sweep.sweep_run import SweepSetup, day_index, finite, report, run_all
from trading_engine.sweep.walk_forward import make_folds

log = logging.getLogger(__name__)
_CANDIDATE_REGIMES = tuple(c for c in CHOICES if c != "truth")


def register(sub: Any) -> None:
    p = sub.add_parser("sweep")
    add_market_arguments(p)
    p.add_argument(
        "--grid",
        nargs="+",
        required=True,
        metavar="NAME=V1,V2",
        help="strategy keys (z_thresh, z_target, stop_offset_ticks, ...) and label.range_z, label.trend_k",
    )
    p.add_argument(
        "--regime", choices=_CANDIDATE_REGIMES, default="hindsight", help="regime the candidates trade under"
    )
    p.add_argument("--model", type=Path, help="ensemble.onnx for --regime ml")
    p.add_argument("--config", type=Path, help="base config (default: config/strategy.toml)")
    p.add_argument("--fees", choices=SCHEDULES, default="ib-tiered", help="fee schedule (default: ib-tiered)")
    p.add_argument("--no-risk-caps", action="store_true", help="no daily loss or orders-per-minute limit")
    split = p.add_mutually_exclusive_group()
    split.add_argument("--folds", type=int, help="anchored walk-forward folds (default 3)")
    split.add_argument("--split", help="one fold: train before this UTC date/time, test from it")
    p.add_argument("--min-days", type=int, default=5, help="trading days each training and test window needs")
    p.add_argument("--workers", type=int, help="processes (default: every core)")
    p.add_argument("--out", type=Path, default=Path("state/sweep"), help="results store (resumable)")
    p.add_argument("--json", type=Path, help="also write the report as JSON here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        setup, folds, first_day, n_days, identity = _prepare(args)
        store = ResultStore(args.out, identity)
    except (ConfigError, GridError, UnknownInstrument, ValueError, FileNotFoundError) as exc:
        log.error("sweep: %s", exc)
        return 2
    results = run_all(setup, LocalExecutor(args.workers), store, _progress)
    out = report(setup, results, folds, first_day, n_days)
    out["pbo"], out["deflated_sharpe"] = finite(out["pbo"]), finite(out["deflated_sharpe"])
    out["meta"] = {k: v for k, v in identity.items() if k != "grid"} | {"grid": args.grid}
    _print(out)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
        print(f"report written to {args.json}")
    return 0


def _prepare(args: argparse.Namespace) -> tuple[SweepSetup, list[Any], int, int, dict[str, Any]]:
    """Everything checked and built before any backtest runs."""
    config = load_config(args.config)
    if args.no_risk_caps:
        config = without_risk_caps(config)
    grid = parse_grid(args.grid)
    if any(k.startswith(LABEL_PREFIX) for k in grid) and args.regime != "hindsight":
        raise GridError("grid: label thresholds change only the hindsight regime: use --regime hindsight")
    if args.regime == "ml" and args.model is None:
        raise ValueError("--regime ml needs --model PATH")
    candidates = expand(grid, config, LabelSpec())
    if args.min_days < 1:
        raise ValueError(f"--min-days must be >= 1, got {args.min_days}")
    data = load_market_data(args)
    spec, tape = spec_and_tape(args, data, config.sim.spread_ticks)
    fees = fee_schedule(args.fees, spec.symbol)
    engine = FastEngine(tape, spec, fees)
    minutes = data.series.minute.astype(np.float64) * 60.0
    first_day = int(np.searchsorted(engine.closes, minutes[0], side="right"))
    n_days = int(day_index(engine.closes, minutes[-1:], first_day)[0]) + 1
    split_day = None
    if args.split is not None:
        split_ts = _utc_seconds(args.split)
        split_day = int(day_index(engine.closes, np.array([split_ts]), first_day)[0])
    folds = make_folds(
        n_days, 3 if args.folds is None and split_day is None else args.folds, split_day, args.min_days
    )
    setup = SweepSetup(engine, data.series, candidates, args.regime, args.seed, args.model)
    identity = {
        "data": data.source,
        "symbol": spec.symbol,
        "bars": len(data.series),
        "grid": sorted(args.grid),
        "regime": args.regime,
        "fees": fees.name,
        "risk_caps": "lifted" if args.no_risk_caps else "on",
        "config": str(args.config or "config/strategy.toml"),
        "seed": args.seed,
    }
    log.info(
        "sweep: %d configurations x %d fold(s) over %d trading days", len(candidates), len(folds), n_days
    )
    return setup, folds, first_day, n_days, identity


def _utc_seconds(text: str) -> float:
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--split: not a date/time: {text!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _progress(total: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="sweep", unit="config", file=sys.stderr, disable=total == 0)


def _print(out: dict[str, Any]) -> None:
    meta = out["meta"]
    print(
        f"{meta['symbol']}: {meta['data']}; {out['configurations']} configurations, "
        f"{out['days']} trading days; regime {meta['regime']}; fees {meta['fees']}; "
        f"risk caps {meta['risk_caps']}"
    )
    print(
        f"{'fold':>4} {'train':>5} {'test':>5} {'oos net':>10} {'trips':>6}  "
        + " ".join(f"{b:>10}" for b in ("range", "trend", "random", "hindsight"))
        + "  selected"
    )
    for f in out["folds"]:
        base = f["baselines_oos_net_usd"]
        print(
            f"{f['fold']:>4} {f['train_days']:>5} {f['test_days']:>5} "
            f"{f['oos_net_usd']:>10,.2f} {f['oos_trips']:>6}  "
            + " ".join(f"{base[b]:>10,.2f}" for b in ("range", "trend", "random", "hindsight"))
            + "  "
            + ", ".join(f"{k}={v}" for k, v in f["selected"].items())
        )
    pbo, dsr = out["pbo"], out["deflated_sharpe"]
    print(
        f"out of sample: net {out['oos_net_usd']:,.2f} USD, daily Sharpe {out['oos_sharpe_daily']:.3f}; "
        f"PBO {'n/a' if pbo is None else f'{pbo:.2f}'} ({out['pbo_blocks']} blocks); "
        f"deflated Sharpe {'n/a' if dsr is None else f'{dsr:.2f}'}"
    )
    print(out["verdict"])
