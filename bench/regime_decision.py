"""The regime decision for one window, in process: features + ONNX + vote (`RegimeModel.decide`), the
Lambda's and the live host's hot path; median and p99, and the features alone.

An ensemble trained once on 10 synthetic sessions (cached in bench/results/decision-ensemble.onnx; delete it
to retrain), then 3,000 windows of another synthetic market (65 bars each, inside a session), decided after a
warm-up, twice over. Run: `.venv/bin/python -m bench regime_decision` (about a minute the first time, then
seconds); figures in bench/results/regime_decision.json. To compare two commits, run it on each, in turn.
"""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.results import RESULTS, percentiles_us, write_results
from regime.features import window_features
from regime.inference import RegimeModel
from regime.models import TrainConfig
from regime.synthetic import synthetic_days
from regime.training import train_ensemble

MODEL = RESULTS / "decision-ensemble.onnx"
WINDOWS = 3000


def _model() -> RegimeModel:
    if not MODEL.exists():
        trained = train_ensemble(synthetic_days(10, seed=5).bars, TrainConfig(folds=2), evaluate=False)
        MODEL.parent.mkdir(parents=True, exist_ok=True)
        MODEL.write_bytes(trained.onnx_bytes)
    return RegimeModel.load(MODEL)


def _commit() -> str:
    out = subprocess.run(
        ["git", "log", "-1", "--format=%h"], capture_output=True, text=True, cwd=Path(__file__).parents[1]
    )
    return out.stdout.strip() or "unknown"


def main() -> None:
    model = _model()
    bars = synthetic_days(12, seed=3).bars
    n = model.min_bars
    ends = [t for t in range(n, len(bars), 7) if bars.segment[t] == bars.segment[t - n + 1]][:WINDOWS]
    windows = [bars.take(slice(t - n + 1, t + 1)) for t in ends]
    now = datetime.now(UTC)
    for w in windows[:300]:  # warm up: caches, the ONNX session's first runs
        model.decide(w, now=now)
    decide, features = [], []
    for _ in range(2):
        for w in windows:
            t0 = time.perf_counter()
            model.decide(w, now=now)
            decide.append(time.perf_counter() - t0)
        for w in windows:
            t0 = time.perf_counter()
            window_features(w, model.feature_spec)
            features.append(time.perf_counter() - t0)
    d, f = percentiles_us(decide), percentiles_us(features)
    figures = {
        "commit": _commit(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "window_bars": n,
        "decide": d,
        "features": f,
    }
    print(
        f"decide (features + ONNX + vote): median {d['median_us']} us, p99 {d['p99_us']} us; "
        f"features alone: median {f['median_us']} us, p99 {f['p99_us']} us "
        f"(load {figures['load_average_1m']})"
    )
    write_results("regime_decision", figures)


if __name__ == "__main__":
    main()
