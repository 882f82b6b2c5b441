"""Shared set-up of the pipeline benchmarks: a moto server, the stack, a layer model, two days of bars."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from devkit.local_cloud.cloud import LocalCloud
from devkit.local_cloud.endpoint import MotoServer, use_endpoint
from devkit.local_cloud.handlers import BoundFunction
from infra.layer_model import DEFAULT_OUT, train_layer_model
from regime.contracts import Bar
from regime.contracts.cadence import DECISION_EVERY_MINUTES, DECISION_INTERVAL
from regime.synthetic import synthetic_days

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # one JSON line per decision otherwise
# The functions read Powertools' service and namespace at import (the template's Globals set them in Lambda).
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "regime-trader")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "RegimeTrader")


@contextmanager
def deployed_stack() -> Iterator[tuple[Path, Path]]:
    """A moto server and the stack (no schedules): a scratch folder and the `--stack-outputs` file."""
    server = MotoServer.start()
    try:
        use_endpoint(server.url)
        cloud = LocalCloud.deploy(include=set())
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            outputs = folder / "outputs.json"
            outputs.write_text(json.dumps({"endpoint": server.url, "outputs": cloud.stack.outputs}))
            yield folder, outputs
    finally:
        server.stop()


@dataclass
class Pipeline:
    cloud: LocalCloud
    regime: BoundFunction
    model_path: Path
    bars: list[Bar]

    def boundaries(self, count: int, history_minutes: int = 80) -> list[datetime]:
        """Decision boundaries with a full window of bars before each."""
        first = self.bars[0].ts + timedelta(minutes=history_minutes)
        first += timedelta(minutes=(-first.minute) % DECISION_EVERY_MINUTES)
        last = self.bars[-1].ts + timedelta(minutes=1)
        out: list[datetime] = []
        t = first
        while t <= last and len(out) < count:
            out.append(t)
            t += DECISION_INTERVAL
        return out


def schedule_event(at: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "resources": [],
        "detail": {},
    }


@contextmanager
def pipeline(days: int = 2, symbol: str = "CL") -> Iterator[Pipeline]:
    """The deployed local stack with `days` of bars ingested through Kinesis and ingest_bars."""
    server = MotoServer.start()
    use_endpoint(server.url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            model_path = DEFAULT_OUT
            if not model_path.exists():  # the build step has not run: a quick model stands in
                model_path = Path(tmp) / "ensemble.onnx"
                model_path.write_bytes(train_layer_model(days=2, seed=3, quick=True)[0])
            cloud = LocalCloud.deploy(parameters={"Symbols": symbol}, include=set())
            fn = cloud.functions["RegimeFunction"]
            regime = dataclasses.replace(
                fn, env={**fn.env, "LAYER_MODEL_PATH": str(model_path), "BAR_WAIT_SECONDS": "0"}
            )
            bars = synthetic_days(days, seed=17, symbol=symbol).bars.to_bars()
            kinesis = boto3.client("kinesis")
            for start in range(0, len(bars), 500):
                chunk = bars[start : start + 500]
                kinesis.put_records(
                    StreamName=cloud.stack.outputs["BarStreamName"],
                    Records=[{"Data": b.to_json().encode(), "PartitionKey": symbol} for b in chunk],
                )
            with contextlib.redirect_stdout(io.StringIO()):  # Powertools' metric lines
                cloud.pump()
            yield Pipeline(cloud, regime, model_path, bars)
    finally:
        server.stop()
