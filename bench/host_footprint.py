"""The always-on host's footprint: what sizes its EC2 instance, and what its CloudWatch metrics cost it.

1. Peak resident memory of a `regime-trader run` process over 4 hours of synthetic CL (sim broker, 600x
   real time), standalone and with the cloud attached (local endpoint; Kinesis pointed at a closed port,
   as the moto server's stream answers slowly: the bars spool, which is the heavier path anyway).
   infra/host/template.yaml sizes the instance with it (IB Gateway's JVM beside it).
2. The metrics job on the event loop: the cost of one sample (it runs on the loop, once a broker minute),
   datums per sample, and one PutMetricData to the local endpoint (off the loop).

Run: `.venv/bin/python -m bench host_footprint` (about 90 s); figures in bench/results/host_footprint.json.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.results import percentiles_us, write_results
from trader_host.assembly.live_host import assemble
from trader_host.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
RUN = ["--regime", "trend", "--synthetic-days", "1", "--seed", "3", "--pace", "600", "--minutes", "240"]


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def peak_rss_mb(state: Path, cloud: list[str], env: dict[str, str]) -> float:
    """Peak RSS (MB) of one host process, measured by the kernel (wait4's rusage)."""
    command = [sys.executable, "-m", "trader_host.cli", "run", *cloud, "--state-dir", str(state), *RUN]
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"host exited {proc.returncode}: {' '.join(command)}")
    return round(usage.ru_maxrss / 1024, 1)  # Linux: kilobytes


def metrics_cost(state: Path, outputs: Path) -> dict[str, Any]:
    cloud = ["--stack-outputs", str(outputs), "--state-dir", str(state)]
    args = build_parser().parse_args(["run", *cloud, *RUN])
    host = assemble(args)
    job = next(j for j in host.session.jobs if j.name == "metrics")
    sampler = job.sampler  # type: ignore[attr-defined]
    timings: list[float] = []
    datums: list[int] = []
    sample = sampler.sample

    def timed(now: float, wall: datetime) -> list[dict[str, Any]]:
        start = time.perf_counter()
        out: list[dict[str, Any]] = sample(now, wall)
        timings.append(time.perf_counter() - start)
        datums.append(len(out))
        return out

    sampler.sample = timed
    asyncio.run(host.session.run())
    host.close()
    metrics = job.metrics  # type: ignore[attr-defined]
    metrics.record(sample(host.session.broker.now(), datetime.now(UTC)))
    start = time.perf_counter()
    sent = metrics.flush()
    put_ms = (time.perf_counter() - start) * 1e3
    return {
        "sample_on_loop": percentiles_us(timings),
        "datums_per_sample_max": max(datums),
        "samples": len(timings),
        "put_metric_data_ms": round(put_ms, 1),
        "put_datums": sent,
        "sent_total": metrics.sent,
        "not_sent": metrics.not_sent,
    }


def main() -> None:
    from bench._pipeline import deployed_stack

    try:
        with deployed_stack() as (folder, outputs):
            kinesis_away = closed_port()
            env = {
                **os.environ,
                "PYTHONPATH": f"{REPO / 'layers' / 'regime'}:{REPO}",
                "AWS_ENDPOINT_URL_KINESIS": kinesis_away,
            }
            alone = peak_rss_mb(folder / "alone", ["--no-cloud"], env)
            attached = peak_rss_mb(folder / "cloud", ["--stack-outputs", str(outputs)], env)
            print(f"host peak RSS: standalone {alone} MB, cloud attached {attached} MB")
            os.environ["AWS_ENDPOINT_URL_KINESIS"] = kinesis_away
            cost = metrics_cost(folder / "metrics", outputs)
            print(f"metrics job: {cost}")
    finally:
        os.environ.pop("AWS_ENDPOINT_URL_KINESIS", None)
    write_results(
        "host_footprint",
        {"peak_rss_mb": {"standalone": alone, "cloud_attached": attached}, "metrics_job": cost},
    )


if __name__ == "__main__":
    main()
