"""One simulated demo day through the real path: its wall time and where it goes.

host (the trading loop itself), publish (bar puts to Kinesis), ingest (Kinesis -> ingest_bars -> DynamoDB),
regime (the regime function at each boundary), lake (the journal shipped to Firehose -> S3 is inside host;
reading the lake back) and queries (the nine Athena queries on DuckDB). Training excluded: a small model.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.results import write_results
from devkit.demo.analytics import query_lake
from devkit.demo.cloud import DemoCloud
from devkit.demo.day import Market, build_host, run_day
from infra.layer_model import train_layer_model


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        root = Path(tmp)
        model = root / "ensemble.onnx"
        model.write_bytes(train_layer_model(8, 11, quick=True)[0])
        with DemoCloud.start(root / "cloud") as cloud:
            host, clock = build_host(cloud, root / "state", Market(1, 8))
            cloud.publish_model("CL", model)
            day = run_day(host, clock)
            started = time.perf_counter()
            lake = query_lake(cloud.bucket)
            lake_and_queries = time.perf_counter() - started
    figures = {
        "day_wall_s": round(day.wall_s, 2),
        "host_s": round(day.host_s, 2),
        **{f"{k}_s": round(v, 2) for k, v in clock.seconds.items()},
        "lake_and_queries_s": round(lake_and_queries, 2),
        "boundaries": len(clock.fired),
        "fills": len(host.session.trader.fills()),
        "lake_records": lake.counts(),
    }
    for key, value in figures.items():
        print(f"{key:>20}: {value}")
    write_results("demo_day", figures)


if __name__ == "__main__":
    main()
