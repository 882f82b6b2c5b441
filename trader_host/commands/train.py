"""`regime-trader train`: train and evaluate the ensemble on synthetic days or a bars file."""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from regime.features import FeatureSpec
from regime.labels import LabelSpec
from regime.models import TrainConfig
from regime.scorecard import scorecard_text
from regime.training import TrainedEnsemble, steps, train_ensemble

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "train", help="train the six-model ONNX ensemble and print its walk-forward evaluation"
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--synthetic-days", type=int, default=30, help="weekday sessions of synthetic market")
    src.add_argument(
        "--bars",
        type=Path,
        help="CSV or Parquet of 1-minute bars (ts_utc, open, high, low, close, volume[, contract_approx])",
    )
    p.add_argument("--symbol", help="symbol of the bars file (default: the file name's prefix)")
    p.add_argument("--tick-size", type=float, default=0.01, help="instrument tick (CL/MCL 0.01, MES 0.25)")
    p.add_argument("--seed", type=int, default=7, help="seed of the synthetic market")
    p.add_argument("--range-z", type=float, default=LabelSpec().range_z, help="range label band, in ATRs")
    p.add_argument("--trend-k", type=float, default=LabelSpec().trend_k, help="trend label travel, in ATRs")
    p.add_argument("--folds", type=int, default=TrainConfig().folds, help="walk-forward folds")
    p.add_argument("--out", type=Path, default=Path("artifacts/model"), help="output folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run_training(args: argparse.Namespace) -> tuple[TrainedEnsemble, dict[str, Any]]:
    """Load the data the arguments name and train; returns the ensemble and a description of the data."""
    from tqdm import tqdm

    config = TrainConfig(
        feature_spec=FeatureSpec(tick_size=args.tick_size),
        label_spec=LabelSpec(range_z=args.range_z, trend_k=args.trend_k),
        folds=args.folds,
    )
    bar = tqdm(total=steps(config), desc="training", unit="model", disable=args.no_progress)

    def progress(step: str) -> None:
        bar.set_postfix_str(step)
        bar.update(1)

    started = time.perf_counter()
    data: dict[str, Any]
    if args.bars:
        from regime.bar_file import load_bar_file

        loaded = load_bar_file(args.bars, symbol=args.symbol)
        data = {"source": str(args.bars), "summary": loaded.summary(), "rejected": loaded.rejected}
        log.info("%s", loaded.summary())
        trained = train_ensemble(loaded.series, config, source={"file": args.bars.name}, progress=progress)
    else:
        from regime.synthetic import synthetic_days

        market = synthetic_days(args.synthetic_days, seed=args.seed)
        data = {
            "source": f"synthetic: {args.synthetic_days} sessions, seed {args.seed}",
            "summary": f"{len(market.bars)} bars, {len(market.ticks)} ticks",
        }
        trained = train_ensemble(
            market.bars,
            replace(config, feature_spec=FeatureSpec(tick_size=market.spec.tick_size)),
            truth=market.truth,
            source={"synthetic_days": args.synthetic_days, "seed": args.seed},
            progress=progress,
        )
    bar.close()
    data["train_seconds"] = round(time.perf_counter() - started, 2)
    return trained, data


def write_artifacts(trained: TrainedEnsemble, data: dict[str, Any], out: Path) -> Path:
    """Write ensemble.onnx and evaluation.json into `out`; returns the model path."""
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / "ensemble.onnx"
    model_path.write_bytes(trained.onnx_bytes)
    report = {
        "model_version": trained.metadata.version,
        "data": data,
        "onnx_bytes": len(trained.onnx_bytes),
        "evaluation": trained.evaluation,
    }
    (out / "evaluation.json").write_text(json.dumps(report, indent=2))
    return model_path


def run(args: argparse.Namespace) -> int:
    trained, data = run_training(args)
    model_path = write_artifacts(trained, data, args.out)
    print(f"\ndata: {data['source']} ({data['summary']})")
    print(scorecard_text(trained.evaluation))
    print(
        f"\nmodel {trained.metadata.version}: {model_path} ({len(trained.onnx_bytes) / 1024:.0f} KiB), "
        f"report {args.out / 'evaluation.json'}, trained in {data['train_seconds']} s"
    )
    return 0
