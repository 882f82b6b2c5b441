"""`regime-trader meta-labels`: the price-shape labels and the P&L-aligned labels side by side, out of sample.

Trains one ensemble on each label set over the bars before --split and reports, on the bars from it: ROC AUC
per hemisphere (each against its own labels), the base rates, and the ML backtest's net ticks per round trip
(fast engine). See trading_engine/backtest/meta_labels.py.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from trader_host.commands.market_data import add_market_arguments, load_market_data
from trading_engine.backtest.risk_caps import without_risk_caps
from trading_engine.config import ConfigError, load_config
from trading_engine.fees import SCHEDULES, fee_schedule
from trading_engine.instruments import SYNTHETIC_SESSION, UnknownInstrument, contract

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser("meta-labels")
    add_market_arguments(p)
    p.add_argument("--split", required=True, help="train before this UTC date/time, test from it")
    p.add_argument("--config", type=Path, help="strategy config (default: config/strategy.toml)")
    p.add_argument("--fees", choices=SCHEDULES, default="ib-tiered", help="fee schedule (default: ib-tiered)")
    p.add_argument("--no-risk-caps", action="store_true", help="no daily loss or orders-per-minute limit")
    p.add_argument("--json", type=Path, help="also write the figures as JSON here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from regime.features import FeatureSpec
    from regime.models import TrainConfig
    from trading_engine.backtest.meta_labels import compare_label_sets

    try:
        config = load_config(args.config)
        if args.no_risk_caps:
            config = without_risk_caps(config)
        try:
            split = datetime.fromisoformat(args.split)
        except ValueError:
            raise ValueError(f"--split: not a date/time: {args.split!r}") from None
        split = split if split.tzinfo else split.replace(tzinfo=UTC)
        data = load_market_data(args)
        series = data.series
        if data.market is None:
            spec = contract(args.symbol or series.symbol)
        else:
            spec = contract(args.symbol or data.market.spec.symbol).with_session(SYNTHETIC_SESSION)
        cut = int(np.searchsorted(series.minute, int(split.timestamp() // 60)))
        if cut < 1000 or len(series) - cut < 300:
            raise ValueError(
                f"--split {args.split}: {cut} training and {len(series) - cut} test bars; too few"
            )
        fees = fee_schedule(args.fees, spec.symbol)
        train_config = TrainConfig(feature_spec=FeatureSpec(tick_size=float(spec.tick_size)), folds=2)
        out = compare_label_sets(
            series.take(np.arange(cut)),
            series.take(np.arange(cut, len(series))),
            spec,
            config,
            fees,
            train_config,
        )
    except (ConfigError, UnknownInstrument, ValueError, FileNotFoundError) as exc:
        log.error("meta-labels: %s", exc)
        return 2
    print(f"{spec.symbol}: {data.source}; train before {split:%Y-%m-%d %H:%M}, fees {fees.name}")
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("test samples", lambda f: f"{f['test_samples']:d}"),
        ("trend base rate", lambda f: f"{f['base_rate']['trend']:.3f}"),
        ("range base rate", lambda f: f"{f['base_rate']['range']:.3f}"),
        ("trend AUC", lambda f: _num(f["auc"]["trend"])),
        ("range AUC", lambda f: _num(f["auc"]["range"])),
        ("ML round trips", lambda f: f"{f['trips']:d}"),
        ("ML net USD", lambda f: f"{f['net_usd']:,.2f}"),
        ("net ticks per trip", lambda f: f"{f['net_ticks_per_trip']:+.3f}"),
    ]
    print("labels".ljust(20) + "".join(k.rjust(14) for k in out))
    for name, cell in rows:
        print(name.ljust(20) + "".join(("-" if "error" in f else cell(f)).rjust(14) for f in out.values()))
    for k, f in out.items():
        if "error" in f:
            print(f"{k}: {f['error']}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, default=lambda v: None))
    return 0


def _num(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3f}"
