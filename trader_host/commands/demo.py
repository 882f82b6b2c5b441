"""`regime-trader demo`: the main job, fully local. For now: train on a synthetic market and evaluate."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from trader_host.commands import train


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the local demo (synthetic market, no AWS account, no broker)")
    p.add_argument("--days", type=int, default=30, help="synthetic weekday sessions to train on")
    p.add_argument("--out", type=Path, default=Path("artifacts/demo"), help="output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    train_args = argparse.Namespace(
        synthetic_days=args.days,
        bars=None,
        symbol=None,
        tick_size=0.01,
        seed=7,
        folds=4,
        out=args.out / "model",
        no_progress=False,
    )
    return train.run(train_args)
