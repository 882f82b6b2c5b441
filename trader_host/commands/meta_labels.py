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

from trader_host.commands.market_data import add_market_arguments, selection_and_test
from trading_engine.backtest.risk_caps import without_risk_caps
from trading_engine.config import ConfigError, load_config
from trading_engine.fees import SCHEDULES, fee_schedule
from trading_engine.instruments import SYNTHETIC_SESSION, UnknownInstrument, contract

log = logging.getLogger(__name__)


def register(p: argparse.ArgumentParser) -> None:
    """The subcommand's arguments."""
    add_market_arguments(p)
    held = p.add_mutually_exclusive_group(required=True)
    held.add_argument("--split", help="train before this UTC date/time, test from it")
    held.add_argument(
        "--test-bars", type=Path, help="train on --bars, test on this later file (a held-out test set)"
    )
    rule = p.add_mutually_exclusive_group()
    rule.add_argument(
        "--threshold",
        type=float,
        help="trade a hemisphere when its mean probability reaches this (not the vote)",
    )
    rule.add_argument(
        "--top-k",
        type=float,
        help="trade the share of windows (0-1) with the highest scores, the bar set on the training data",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    p.add_argument("--config", type=Path, help="strategy config (default: config/strategy.toml)")
    p.add_argument("--fees", choices=SCHEDULES, default="ib-tiered", help="fee schedule (default: ib-tiered)")
    p.add_argument("--no-risk-caps", action="store_true", help="no daily loss or orders-per-minute limit")
    p.add_argument("--json", type=Path, help="also write the figures as JSON here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from regime.features import FeatureSpec
    from regime.models import MODEL_NAMES, TrainConfig
    from trader_host.analytics.progress import Progress
    from trading_engine.backtest.meta_labels import ScoreRule, compare_label_sets

    try:
        config = load_config(args.config)
        if args.no_risk_caps:
            config = without_risk_caps(config)
        rule = ScoreRule(args.threshold, args.top_k)
        for name, value in (("--threshold", args.threshold), ("--top-k", args.top_k)):
            if value is not None and not 0 < value < 1:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        args.test_start = None
        if args.split is not None:
            try:
                split = datetime.fromisoformat(args.split)
            except ValueError:
                raise ValueError(f"--split: not a date/time: {args.split!r}") from None
            args.test_start = split if split.tzinfo else split.replace(tzinfo=UTC)
        data, test = selection_and_test(args)
        if test is None:  # one of --split, --test-bars is required
            raise ValueError("give --split DATE or --test-bars FILE")
        if len(data.series) < 1000 or len(test.series) < 300:
            raise ValueError(
                f"{len(data.series)} training and {len(test.series)} test bars; too few (1000 and 300)"
            )
        if data.market is None:
            spec = contract(args.symbol or data.series.symbol)
        else:
            spec = contract(args.symbol or data.market.spec.symbol).with_session(SYNTHETIC_SESSION)
        fees = fee_schedule(args.fees, spec.symbol)
        train_config = TrainConfig(feature_spec=FeatureSpec(tick_size=float(spec.tick_size)), folds=2)
        progress = Progress(2 * len(MODEL_NAMES))
        out = compare_label_sets(
            data.series,
            test.series,
            spec,
            config,
            fees,
            train_config,
            rule,
            None if args.no_progress else lambda step: progress.step(f"meta-labels: fit {step}"),
        )
    except (ConfigError, UnknownInstrument, ValueError, FileNotFoundError) as exc:
        log.error("meta-labels: %s", exc)
        return 2
    print(f"{spec.symbol}: train on {data.source}, test on {test.source}; fees {fees.name}")
    print("(P&L labels: only the windows in which both the always-trend and always-range strategies traded)")
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("test samples", lambda f: f"{f['test_samples']:d}"),
        ("trend base rate", lambda f: f"{f['base_rate']['trend']:.3f}"),
        ("range base rate", lambda f: f"{f['base_rate']['range']:.3f}"),
        ("trend AUC", lambda f: _num(f["auc"]["trend"])),
        ("range AUC", lambda f: _num(f["auc"]["range"])),
        ("ML round trips", lambda f: f"{f['trips']:d}"),
        ("ML net USD", lambda f: f"{f['net_usd']:,.2f}"),
        ("net ticks per trip", lambda f: f"{f['net_ticks_per_trip']:+.3f}"),
        ("trades taken by", lambda f: _rule(f["rule"])),
    ]
    print("labels".ljust(20) + "".join(k.rjust(14) for k in out))
    for name, cell in rows:
        print(name.ljust(20) + "".join(("-" if "error" in f else cell(f)).rjust(14) for f in out.values()))
    for k, f in out.items():
        if "error" in f:
            print(f"{k}: {f['error']}")
        else:
            print(_deciles(k, f["by_decile"]))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, default=lambda v: None))
    return 0


def _rule(rule: Any) -> str:
    return rule if isinstance(rule, str) else f"p>={rule['trend_min']:.2f}/{rule['range_min']:.2f}"


def _deciles(label_set: str, by_hemisphere: dict[str, list[dict[str, Any]]]) -> str:
    """Mean net USD of the windows each hemisphere's strategy traded, by decile of the model's score."""
    lines = [f"{label_set} labels: mean net USD per traded window by score decile (1 = lowest score)"]
    for hemisphere, rows in by_hemisphere.items():
        cells = " ".join(
            f"{r['mean_net_usd']:+.2f}" if r["mean_net_usd"] is not None else "n/a" for r in rows
        )
        lines.append(f"  {hemisphere:<6} {cells}")
    return "\n".join(lines)


def _num(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3f}"
