"""The layer's fallback model: trained at build time, never committed.

The regime function falls back to `regime/model/ensemble.onnx` inside the layer when the SSM pointer has no
entry for a symbol or its S3 object cannot be read. Before `sam build`, write it with:

    .venv/bin/python -m infra.layer_model                  # synthetic market (deterministic, ~1 min)
    .venv/bin/python -m infra.layer_model --csv ../shared/data/MCL_1m_2026-01-15_2026-02-27.csv

It lands in layers/regime/regime/model/, which `sam build` copies into the layer (/opt/python/regime/).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.template_yaml import REPO

DEFAULT_OUT = REPO / "layers" / "regime" / "regime" / "model" / "ensemble.onnx"


def train_layer_model(
    days: int = 10, seed: int = 7, csv: Path | None = None, quick: bool = False
) -> tuple[bytes, str]:
    """Train an ensemble on a synthetic market (or a bars CSV); returns (ensemble.onnx bytes, version)."""
    from regime.training import TrainConfig, train_ensemble

    # quick: seconds, not minutes (tests and demos); the full config is what `train` uses.
    config = (
        TrainConfig(mlp_max_iter=50, gbt_iterations=20, svm_max_samples=300, folds=2)
        if quick
        else TrainConfig()
    )
    if csv is not None:
        from regime.bar_file import load_bar_file

        series = load_bar_file(csv).series
        source: dict[str, object] = {"csv": csv.name}
    else:
        from regime.synthetic import synthetic_days

        series = synthetic_days(days, seed=seed).bars
        source = {"synthetic_days": days, "seed": seed}
    trained = train_ensemble(series, config, source=source)
    return trained.onnx_bytes, trained.metadata.version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.layer_model",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--days", type=int, default=10, help="synthetic days to train on")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--csv", type=Path, default=None, help="train on this bars CSV instead")
    parser.add_argument("--quick", action="store_true", help="a small model in seconds (tests, demos)")
    args = parser.parse_args(argv)
    data, version = train_layer_model(args.days, args.seed, args.csv, args.quick)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"{args.out}: ensemble {version}, {len(data) / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
