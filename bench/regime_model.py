"""The regime model: one-window latency, the batch path, training time, artifact size, cold load.

Run: `.venv/bin/python -m bench regime_model` (about two minutes on 2 cores).
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime

import numpy as np

from bench.results import percentiles_us, write_results
from regime.features import window_features
from regime.inference import RegimeModel
from regime.synthetic import synthetic_days
from regime.training import train_ensemble

SIX_MONTHS_SESSIONS = 130  # weekday sessions of 23 hours: about 179,000 one-minute bars
WINDOW_REPEATS = 3000

COLD_LOAD = """
import time
t0 = time.perf_counter()
from regime.inference import RegimeModel
t1 = time.perf_counter()
model = RegimeModel.load({path!r})
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def one_window(model: RegimeModel, bars: object) -> dict[str, object]:
    from regime.bar_series import BarSeries

    assert isinstance(bars, BarSeries)
    now = datetime.now(UTC)
    n = model.min_bars
    # Windows that lie inside one session (a window across the daily break is decided `nothing` at once).
    ends = [t for t in range(n, len(bars), 7) if bars.segment[t] == bars.segment[t - n + 1]][:WINDOW_REPEATS]
    windows = [bars.take(slice(t - n + 1, t + 1)) for t in ends]
    for w in windows[:200]:  # warm up
        model.decide(w, now=now)
    total, feats, infer = [], [], []
    for w in windows:
        t0 = time.perf_counter()
        model.decide(w, now=now)
        total.append(time.perf_counter() - t0)
    for w in windows:
        t0 = time.perf_counter()
        x = window_features(w, model.feature_spec)
        t1 = time.perf_counter()
        model.vote(x)
        t2 = time.perf_counter()
        feats.append(t1 - t0)
        infer.append(t2 - t1)
    return {
        "decide": percentiles_us(total),
        "features": percentiles_us(feats),
        "onnx_and_vote": percentiles_us(infer),
    }


def main() -> None:
    t0 = time.perf_counter()
    market = synthetic_days(SIX_MONTHS_SESSIONS, seed=3)
    gen_s = time.perf_counter() - t0
    bars = market.bars
    print(f"synthetic market: {len(bars):,} bars, {len(market.ticks):,} ticks in {gen_s:.1f} s")

    t0 = time.perf_counter()
    final_only = train_ensemble(bars, truth=market.truth, evaluate=False)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    trained = train_ensemble(bars, truth=market.truth)
    full_s = time.perf_counter() - t0
    print(f"training on 6 months: final fit + ONNX {fit_s:.1f} s; with 4-fold walk-forward {full_s:.1f} s")
    del final_only

    model = RegimeModel.load(trained.onnx_bytes)
    window = one_window(model, bars)
    d = window["decide"]
    assert isinstance(d, dict)
    print(f"one window (features + ONNX + vote): median {d['median_us']} us, p99 {d['p99_us']} us")

    batches: dict[str, dict[str, float]] = {}
    for threads, label in ((1, "one_thread"), (0, "every_core")):
        batch_model = RegimeModel.load(trained.onnx_bytes, threads=threads)
        t0 = time.perf_counter()
        batch = batch_model.decide_batch(bars)
        batch_s = time.perf_counter() - t0
        decided = int(np.isfinite(batch.probabilities[:, 0]).sum())
        batches[label] = {"windows": decided, "seconds": round(batch_s, 3), "per_s": round(decided / batch_s)}
        print(
            f"batch path, {label.replace('_', ' ')}: {decided:,} windows in {batch_s:.2f} s "
            f"({decided / batch_s:,.0f} windows/s)"
        )

    path = RESULTS_MODEL
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(trained.onnx_bytes)
    loads = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", COLD_LOAD.format(path=str(path))],
            capture_output=True,
            text=True,
            check=True,
        )
        imp, load = map(float, out.stdout.split())
        loads.append((imp, load))
    imp_med = float(np.median([x[0] for x in loads]))
    load_med = float(np.median([x[1] for x in loads]))
    size = len(trained.onnx_bytes)
    print(
        f"ensemble.onnx {size / 1024:.0f} KiB; fresh process: import {imp_med * 1e3:.0f} ms, "
        f"load {load_med * 1e3:.0f} ms"
    )
    ev = trained.evaluation
    write_results(
        "regime_model",
        {
            "bars": len(bars),
            "ticks": len(market.ticks),
            "generate_s": round(gen_s, 2),
            "train_final_fit_s": round(fit_s, 2),
            "train_with_walk_forward_s": round(full_s, 2),
            "one_window": window,
            "batch": batches,
            "onnx_bytes": size,
            "import_s": round(imp_med, 3),
            "model_load_s": round(load_med, 3),
            "oos_vote_accuracy": ev["vote"]["accuracy"],
            "oos_vote_baseline": ev["vote"]["baseline"],
            "oos_truth_accuracy": ev["truth"]["accuracy"],
            "oos_truth_baseline": ev["truth"]["baseline"],
        },
    )


from bench.results import RESULTS  # noqa: E402

RESULTS_MODEL = RESULTS / "ensemble-6-months.onnx"

if __name__ == "__main__":
    main()
