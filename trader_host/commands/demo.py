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
    from trader_host.cli import build_parser

    train_args = build_parser().parse_args(
        ["train", "--synthetic-days", str(args.days), "--out", str(args.out / "model")]
    )
    return train.run(train_args)
