"""The demo's model: trained on a synthetic market once per set of training arguments, then reused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import regime

MODEL_FILE = "ensemble.onnx"
TRAINING_CODE = Path(regime.__file__).parent


def model_folder(root: Path, train_days: int, seed: int) -> Path:
    """The folder of the model these arguments train: a new key when they or the training code change."""
    digest = hashlib.sha256(json.dumps({"days": train_days, "seed": seed}).encode())
    for source in sorted(TRAINING_CODE.glob("*.py")):  # features, labels, models, training, synthetic
        digest.update(source.read_bytes())
    key = digest.hexdigest()[:10]
    return root / f"model-{train_days}d-seed{seed}-{key}"


def cached_model(root: Path, train_days: int, seed: int) -> tuple[Path, bool]:
    """The ensemble for these arguments, trained with `regime-trader train` if absent; (path, reused)."""
    folder = model_folder(root, train_days, seed)
    path = folder / MODEL_FILE
    if path.is_file():
        return path, True
    from trader_host.cli import build_parser
    from trader_host.commands import train

    args = build_parser().parse_args(
        ["train", "--synthetic-days", str(train_days), "--seed", str(seed), "--out", str(folder)]
    )
    code = train.run(args)
    if code or not path.is_file():
        raise RuntimeError(f"training failed (exit {code}); nothing at {path}")
    return path, False
