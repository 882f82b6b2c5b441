"""The regime decision for one window, in process: features + ONNX + vote (`RegimeModel.decide`), the
Lambda's and the live host's hot path: median and p99, and its parts (as `bench regime_model` measures them,
without its six months of training).

An ensemble trained once on 10 synthetic sessions (cached in bench/results/decision-ensemble-<key>.onnx, the
key a hash of the modules that write the ONNX graph, so that a change of graph trains it again; the same
scikit-learn models every time, seeded), then up to 3,000 windows of another synthetic market (65 bars each,
inside a session), decided after a warm-up. Run: `.venv/bin/python -m bench regime_decision` (some 15 s the
first time, then seconds); figures in bench/results/regime_decision.json. To compare two commits, run it on
each, in turn, several times: on a shared machine one run's median moves by a third.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import regime
from bench.regime_model import one_window
from bench.results import RESULTS, write_results
from regime.inference import RegimeModel
from regime.models import TrainConfig
from regime.synthetic import synthetic_days
from regime.training import train_ensemble

GRAPH_WRITERS = ("models.py", "ensemble_graph.py", "svm_graph.py", "mlp_graph.py", "graph_part.py")


def _model_file() -> Path:
    digest = hashlib.sha256()
    for name in GRAPH_WRITERS:
        source = Path(regime.__file__).parent / name
        digest.update(source.read_bytes() if source.exists() else b"")
    return RESULTS / f"decision-ensemble-{digest.hexdigest()[:12]}.onnx"


def _model() -> RegimeModel:
    path = _model_file()
    if not path.exists():
        trained = train_ensemble(synthetic_days(10, seed=5).bars, TrainConfig(folds=2), evaluate=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(trained.onnx_bytes)
    return RegimeModel.load(path)


def _commit() -> str:
    out = subprocess.run(
        ["git", "log", "-1", "--format=%h"], capture_output=True, text=True, cwd=Path(__file__).parents[1]
    )
    return out.stdout.strip() or "unknown"


def main() -> None:
    window = one_window(_model(), synthetic_days(12, seed=3).bars)
    figures = {
        "commit": _commit(),
        "model": _model_file().name,
        "load_average_1m": round(os.getloadavg()[0], 2),
        **window,
    }
    for part in ("decide", "features", "onnx_and_vote"):
        f = window[part]
        assert isinstance(f, dict)
        print(f"{part:>14}: median {f['median_us']:8.1f} us, p99 {f['p99_us']:8.1f} us")
    print(f"(load average {figures['load_average_1m']})")
    write_results("regime_decision", figures)


if __name__ == "__main__":
    main()
