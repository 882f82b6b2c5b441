"""The live host through a cloud outage and a slow cloud: no fill lost, no crash, no tick waiting on a call.

The host is built by `regime-trader run`'s own composition root and talks to the local endpoint through a
real HTTP proxy that drops every connection for 10 minutes of market time, or answers every call in 5 s.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest

from devkit.local_cloud.cloud import LocalCloud
from tests.trader_host.cloud.flaky_endpoint import FlakyEndpoint
from trader_host.assembly.live_host import LiveHost, assemble
from trader_host.cli import build_parser
from trading_engine.journal.trade_journal import TradeJournal

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PACE = 600.0  # 10 minutes of market per wall second
MARKET = ["--synthetic-days", "1", "--seed", "3", "--pace", str(PACE), "--minutes", "240"]


@pytest.fixture(scope="module")
def outputs(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).close()
    return LocalCloud.deploy(include=set()).stack.outputs


def build(tmp_path: Path, outputs: dict[str, str]) -> LiveHost:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"outputs": outputs}))
    state = str(tmp_path / "state")
    args = build_parser().parse_args(
        ["run", "--stack-outputs", str(path), "--regime", "trend", "--state-dir", state, *MARKET]
    )
    return assemble(args)


def at(endpoint: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


def lake_fills(outputs: dict[str, str], endpoint: str) -> list[str]:
    s3, bucket = at(endpoint, "s3"), outputs["DataLakeBucketName"]
    ids: list[str] = []
    for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        for line in s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode().splitlines():
            record: dict[str, Any] = json.loads(line)
            if "execution_id" in record:
                ids.append(record["execution_id"])
    return ids


@pytest.mark.parametrize("fault", ["down for 10 market minutes", "5 s per call"])
def test_the_host_trades_through_a_sick_cloud_and_loses_nothing(
    fault: str, outputs: dict[str, str], moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FlakyEndpoint(moto_endpoint) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        s3 = at(moto_endpoint, "s3")
        for obj in s3.list_objects_v2(Bucket=outputs["DataLakeBucketName"]).get("Contents", []):
            s3.delete_object(Bucket=outputs["DataLakeBucketName"], Key=obj["Key"])  # the other case's
        host = build(tmp_path, outputs)
        session = host.session
        if fault == "5 s per call":
            proxy.delay_s = 5.0
        else:
            timer = threading.Timer(3.0, lambda: setattr(proxy, "down", True))
            timer.start()
            threading.Timer(3.0 + 600 / PACE, lambda: setattr(proxy, "down", False)).start()
        start = time.monotonic()
        asyncio.run(session.run())
        wall = time.monotonic() - start
        host.close()
        proxy.delay_s, proxy.down = 0.0, False
    trader = session.trader
    assert session.failure is None and trader.is_idle and trader.round_trips()
    journaled = {
        e.record_id for e in TradeJournal(tmp_path / "state" / "CL.journal").read()[0] if e.kind == "fill"
    }
    assert journaled == {f.execution_id for f in trader.fills()}
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    landed = set(lake_fills(outputs, moto_endpoint))
    assert landed == journaled  # every fill reached the lake (deduplicated on its id)
    latency = sorted(session.tick_latency_s)
    # A tick that waited for one call of this endpoint would take 5 s (or a connect timeout): none did.
    assert latency[-1] < 1.0, f"slowest tick {latency[-1]:.3f}s over {wall:.1f}s"
    print(
        f"{fault}: {len(latency)} ticks, median {statistics.median(latency) * 1e6:.0f} us, "
        f"p99 {latency[int(len(latency) * 0.99)] * 1e6:.0f} us, max {latency[-1] * 1e3:.1f} ms; "
        f"{wall:.1f}s wall"
    )
