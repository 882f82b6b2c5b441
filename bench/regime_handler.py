"""The regime handler, warm: end to end on the local endpoint, and its compute part alone.

End to end = one scheduled invocation for one symbol: query the window of bars, features + ONNX + vote,
conditional write, history write, Firehose record, metrics. Compute = BarSeries + decide on the same window,
no I/O. The local endpoint (moto on loopback, ~6-7 ms a call) is slower than DynamoDB in-region, so the I/O
share here is an upper bound. Run: `.venv/bin/python -m bench regime_handler` (about a minute).
"""

from __future__ import annotations

import contextlib
import io
import time
from datetime import UTC, datetime, timedelta

from bench._pipeline import pipeline, schedule_event
from bench.results import percentiles_us, write_results
from devkit.local_cloud.endpoint import environment
from functions.regime import app
from regime.bar_series import BarSeries
from regime.contracts.timestamps import format_minute
from regime.inference import RegimeModel

CALLS = 200


def main() -> None:
    with pipeline(days=2) as p:
        boundaries = p.boundaries(CALLS + 5)
        warmup, timed = boundaries[:5], boundaries[5:]
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink):  # Powertools' metrics lines: produced, not shown
            for b in warmup:
                p.regime.invoke(schedule_event(b))
            end_to_end = []
            for b in timed:
                t0 = time.perf_counter()
                p.regime.invoke(schedule_event(b))
                end_to_end.append(time.perf_counter() - t0)
        model = RegimeModel.load(p.model_path)
        by_minute = {bar.ts: bar for bar in p.bars}
        compute, reads = [], []
        settings_env = p.regime.env
        with environment(settings_env):
            settings = app.Settings.from_env()
            for b in timed:
                window = [
                    by_minute[t]
                    for t in (b - timedelta(minutes=m) for m in range(80, 0, -1))
                    if t in by_minute
                ]
                t0 = time.perf_counter()
                model.decide(BarSeries.from_bars(window), now=datetime.now(UTC))
                compute.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                since = format_minute(b - timedelta(minutes=80))
                app.read_bars(settings.bars_table, "CL", since, format_minute(b))
                reads.append(time.perf_counter() - t0)
    figures = {
        "calls": len(timed),
        "end_to_end": percentiles_us(end_to_end),
        "compute_only": percentiles_us(compute),
        "read_window_query": percentiles_us(reads),
        "window_bars": 80,
        "endpoint": "moto server on loopback (about 6-7 ms per call)",
    }
    for name in ("end_to_end", "compute_only", "read_window_query"):
        f = figures[name]
        assert isinstance(f, dict)
        print(f"{name:>18}: median {f['median_us'] / 1000:7.2f} ms   p99 {f['p99_us'] / 1000:7.2f} ms")
    write_results("regime_handler", figures)


if __name__ == "__main__":
    main()
