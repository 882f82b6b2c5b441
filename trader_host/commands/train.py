"""`regime-trader train`: train and evaluate the ensemble on synthetic days or a bars file."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

from regime.features import FeatureSpec
from regime.labels import LabelSpec
from regime.models import TrainConfig
from regime.scorecard import scorecard_text
from regime.training import TrainedEnsemble, steps, train_ensemble
from trader_host.commands.market_data import (
    MarketData,
    add_market_arguments,
    load_market_data,
    market_source,
)
from trader_host.commands.user_error import UserError
from trading_engine.instruments import UnknownInstrument, contract

log = logging.getLogger(__name__)


def register(p: argparse.ArgumentParser) -> None:
    """The subcommand's arguments."""
    add_market_arguments(p)
    p.add_argument(
        "--tick-size", type=float, help="instrument tick (default: from the symbol's contract spec)"
    )
    p.add_argument("--range-z", type=float, default=LabelSpec().range_z, help="range label band, in ATRs")
    p.add_argument("--trend-k", type=float, default=LabelSpec().trend_k, help="trend label travel, in ATRs")
    p.add_argument("--folds", type=int, default=TrainConfig().folds, help="walk-forward folds")
    p.add_argument(
        "--balanced",
        action="store_true",
        help="weight each label class by its inverse frequency (a model's 0.5 then means a balanced prior)",
    )
    p.add_argument("--out", type=Path, default=Path("artifacts/model"), help="output folder")
    p.add_argument(
        "--force", action="store_true", help="replace a model in --out that was trained on other data"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def tick_size(args: argparse.Namespace, data: MarketData) -> float:
    """--tick-size, else the synthetic market's, else the contract spec's; an unknown symbol must say it."""
    if args.tick_size is not None:
        return float(args.tick_size)
    if data.market is not None:
        return data.market.spec.tick_size
    try:
        return float(contract(data.series.symbol).tick_size)
    except UnknownInstrument as exc:
        raise ValueError(f"{exc.args[0]}: give --tick-size") from None


def run_training(args: argparse.Namespace) -> tuple[TrainedEnsemble, dict[str, Any]]:
    """Load the data the arguments name and train; returns the ensemble and a description of the data."""
    from tqdm import tqdm

    data = load_market_data(args)
    config = TrainConfig(
        feature_spec=FeatureSpec(tick_size=tick_size(args, data)),
        label_spec=LabelSpec(range_z=args.range_z, trend_k=args.trend_k),
        folds=args.folds,
        balanced=args.balanced,
    )
    source = market_source(args)
    bar = tqdm(total=steps(config), desc="training", unit="model", disable=args.no_progress)

    def progress(step: str) -> None:
        bar.set_postfix_str(step)
        bar.update(1)

    started = time.perf_counter()
    trained = train_ensemble(data.series, config, truth=data.truth, source=source, progress=progress)
    bar.close()
    return trained, {**data.describe(), "train_seconds": round(time.perf_counter() - started, 2)}


def refuse_replacing(out: Path, source: dict[str, Any]) -> None:
    """A UserError when `out` holds a model trained on other data (the same data: it is replaced)."""
    from regime.inference import ModelError, RegimeModel

    path = out / "ensemble.onnx"
    if not path.exists():
        return
    try:
        trained_on = RegimeModel.load(path).metadata.training_range
    except (ModelError, OSError):
        trained_on = {}
    theirs = {k: trained_on.get(k) for k in source}
    if theirs != source:
        raise UserError(
            f"{path} holds a model trained on {_describe(trained_on) or 'unknown data'}, not on "
            f"{_describe(source)}: give another --out, or --force to replace it"
        )


def _describe(source: dict[str, Any]) -> str:
    if "file" in source:
        span = "".join(f" {k} {source[k]}" for k in ("start", "end") if source.get(k))
        return f"{source['file']}{span}"
    if "synthetic_days" in source:
        return f"{source['synthetic_days']} synthetic sessions (seed {source.get('seed')})"
    return ""


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
    if not args.force:
        refuse_replacing(args.out, market_source(args))
    print(f"train: writing {args.out / 'ensemble.onnx'} and {args.out / 'evaluation.json'}", flush=True)
    try:
        trained, data = run_training(args)
    except (ValueError, FileNotFoundError) as exc:
        log.error("train: %s", exc)
        return 2
    model_path = write_artifacts(trained, data, args.out)
    print(f"\ndata: {data['source']} ({data['summary']})")
    print(scorecard_text(trained.evaluation))
    print(
        f"\nmodel {trained.metadata.version}: {model_path} ({len(trained.onnx_bytes) / 1024:.0f} KiB), "
        f"report {args.out / 'evaluation.json'}, trained in {data['train_seconds']} s"
    )
    return 0
