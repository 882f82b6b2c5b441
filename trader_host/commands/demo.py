"""`regime-trader demo`: the main job, fully local (no AWS account, no broker).

Trains the ensemble on synthetic sessions and prints its walk-forward evaluation, then backtests the
strategy on sessions the model has never seen, with the ML regime beside the true regime and the fixed and
random alternatives.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from trader_host.commands import backtest, train


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the local demo (synthetic market, no AWS account, no broker)")
    p.add_argument("--days", type=int, default=30, help="synthetic weekday sessions to train on")
    p.add_argument("--backtest-days", type=int, default=10, help="unseen sessions to backtest on")
    p.add_argument("--out", type=Path, default=Path("artifacts/demo"), help="output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from trader_host.cli import build_parser

    parser = build_parser()
    model_dir = args.out / "model"
    print(f"== 1/2 train on {args.days} synthetic sessions (seed 7)")
    code = train.run(
        parser.parse_args(["train", "--synthetic-days", str(args.days), "--out", str(model_dir)])
    )
    if code:
        return code
    print(f"\n== 2/2 backtest on {args.backtest_days} unseen synthetic sessions (seed 8)")
    bt_args = parser.parse_args(
        [
            "backtest",
            "--synthetic-days",
            str(args.backtest_days),
            "--seed",
            "8",
            "--model",
            str(model_dir / "ensemble.onnx"),
            "--json",
            str(args.out / "backtest.json"),
        ]
    )
    return backtest.run(bt_args)
