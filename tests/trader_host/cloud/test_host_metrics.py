"""The host's CloudWatch metrics: a simulated session on the local cloud publishes the alarmed metrics per
symbol, and every other one as an EMF line on stdout under the service dimension alone, all with the
session's own values; an unreachable CloudWatch endpoint costs the session nothing (the calls are
counted, the datums kept)."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import socket
import threading
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from devkit.local_cloud.cloud import LocalCloud
from infra.template_yaml import load_template
from trader_host.assembly.live_host import LiveHost, assemble
from trader_host.cli import build_parser
from trader_host.cloud.aws import client
from trader_host.cloud.host_metrics import NAMESPACE, PER_SYMBOL, SERVICE, HostMetric, dimensions
from trader_host.cloud.metrics_publisher import CloudWatchMetrics, MetricsJob

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MARKET = ["--synthetic-days", "1", "--seed", "3", "--minutes", "240"]


@pytest.fixture(scope="module")
def outputs(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).close()
    cloud = LocalCloud.deploy(include=set())  # the host's side only
    path = tmp_path_factory.mktemp("cloud") / "outputs.json"
    path.write_text(json.dumps({"endpoint": moto_endpoint, "outputs": cloud.stack.outputs}))
    return path


@pytest.fixture(autouse=True)
def no_kinesis(monkeypatch: pytest.MonkeyPatch) -> None:
    # Kinesis away: the bars wait in the spool (the bar backlog metric has something to show), and no
    # put waits on the local stream's event source mapping.
    monkeypatch.setenv("AWS_ENDPOINT_URL_KINESIS", closed_port())


def build(state: Path, outputs: Path, *extra: str) -> LiveHost:
    args = build_parser().parse_args(
        ["run", "--stack-outputs", str(outputs), "--state-dir", str(state), *MARKET, *extra]
    )
    return assemble(args)


def metrics_job(host: LiveHost) -> MetricsJob:
    jobs = [job for job in host.session.jobs if isinstance(job, MetricsJob)]
    assert len(jobs) == 1, host.session.jobs
    return jobs[0]


def cloudwatch() -> Any:
    """The test's own reader (the host's client gives up after 3 s; a loaded local endpoint can be slower)."""
    return boto3.client("cloudwatch", config=Config(read_timeout=60))


def statistics(metric: HostMetric, since: datetime, symbol: str = "CL") -> dict[str, float]:
    answer = cloudwatch().get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=metric.value,
        Dimensions=dimensions(symbol),
        StartTime=since - timedelta(minutes=5),
        EndTime=datetime.now(UTC) + timedelta(minutes=5),
        Period=3600,
        Statistics=["Sum", "SampleCount", "Minimum", "Maximum"],
    )
    points = answer["Datapoints"]
    assert len(points) <= 1, points  # one hour-long period covers the whole test
    return {k: float(v) for k, v in points[0].items() if isinstance(v, float)} if points else {}


def test_the_namespace_and_service_are_the_functions_own() -> None:
    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == NAMESPACE
    assert variables["POWERTOOLS_SERVICE_NAME"] == SERVICE


def emf_values(out: str, metric: HostMetric) -> list[float]:
    """Every value of `metric` in the EMF lines of `out` (checked to be EMF: the metric declared, under the
    service dimension alone, the symbol a field)."""
    values: list[float] = []
    for text in out.splitlines():
        if not text.startswith('{"_aws"'):
            continue
        line = json.loads(text)
        (directive,) = line["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == NAMESPACE and directive["Dimensions"] == [["service"]]
        assert line["service"] == SERVICE and line["symbol"] == "CL"
        assert {m["Name"] for m in directive["Metrics"]} <= {m.value for m in HostMetric} - {*PER_SYMBOL}
        if metric.value in line:
            value = line[metric.value]
            values.extend(value if isinstance(value, list) else [value])
    return values


def test_a_session_publishes_every_metric_with_its_values(
    outputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    since = datetime.now(UTC)
    host = build(tmp_path / "trend", outputs, "--regime", "trend")
    asyncio.run(host.session.run())
    session, job = host.session, metrics_job(host)
    trader = session.trader
    assert session.failure is None and trader.fills() and session.tick_orders > 0
    assert job.metrics.sent > 0 and job.metrics.pending() == 0 and job.metrics.not_sent == 0

    listed = cloudwatch().list_metrics(Namespace=NAMESPACE)["Metrics"]
    for metric in listed:
        assert metric["Dimensions"] == dimensions("CL"), metric
    # Only what an alarm reads is a per-symbol custom metric (a fixed regime, --regime, has no age).
    assert {m["MetricName"] for m in listed} == {m.value for m in PER_SYMBOL} - {HostMetric.REGIME_AGE.value}

    out = capsys.readouterr().out
    beats = statistics(HostMetric.HEARTBEAT, since)
    assert beats["Sum"] >= 2  # the first event's sample and the final one
    assert sum(emf_values(out, HostMetric.FILLS)) == len(trader.fills())
    pnl = emf_values(out, HostMetric.NET_PNL)
    assert len(pnl) == beats["Sum"]  # one line a sample
    final = float(trader.realised_net_usd())
    assert min(pnl) <= min(0.0, final) and max(pnl) >= max(0.0, final) and pnl[-1] == final  # 0 at first
    fees = sum(float(f.commission_usd) for f in trader.fills())
    lowest = min(itertools.accumulate(float(t.net_usd) for t in trader.round_trips()))
    assert min(pnl) >= lowest - fees  # no sample below the worst the trades ever stood
    latency = emf_values(out, HostMetric.TICK_TO_ORDER)
    assert len(latency) == session.tick_orders  # every tick that placed an order, once
    assert max(latency) == round(max(session.tick_to_order_s) * 1e6)
    assert sum(emf_values(out, HostMetric.REJECTS)) == trader.snapshot().rejects
    assert sum(emf_values(out, HostMetric.DISCONNECTS)) == trader.disconnects
    assert emf_values(out, HostMetric.BROKER_NOTICES) == []  # the sim broker has none
    assert statistics(HostMetric.JOURNAL_BACKLOG, since)["Minimum"] == 0.0  # all shipped by the end
    bar_backlog = statistics(HostMetric.BAR_BACKLOG, since)
    assert bar_backlog["SampleCount"] == beats["Sum"]
    assert bar_backlog["Minimum"] == 0.0 and bar_backlog["Maximum"] > 0  # Kinesis is away: they wait


def test_without_a_decision_the_regime_age_grows_from_the_start(outputs: Path, tmp_path: Path) -> None:
    # No item in the regime table: the host trades nothing and its regime is as old as its wait.
    since = datetime.now(UTC)
    host = build(tmp_path / "cloud-regime", outputs)
    started = host.session.broker.now()
    asyncio.run(host.session.run())
    age = statistics(HostMetric.REGIME_AGE, since)
    assert 0.0 <= age["Minimum"] < 60.0  # the first sample, at the first event
    end = host.session.broker.now()
    assert age["Maximum"] == pytest.approx(end - started, abs=1.0) and age["Maximum"] > 600


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens there once closed


def test_an_unreachable_cloudwatch_never_stops_the_session(
    outputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    reference = build(tmp_path / "reference", outputs, "--regime", "trend")
    asyncio.run(reference.session.run())

    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", closed_port())  # only CloudWatch is away
    host = build(tmp_path / "no-cloudwatch", outputs, "--regime", "trend")
    with caplog.at_level(logging.WARNING, logger="trader_host.cloud.metrics_publisher"):
        asyncio.run(host.session.run())
    session, job = host.session, metrics_job(host)
    assert session.failure is None
    expected = [(f.ts, f.side, f.qty, f.price) for f in reference.session.trader.fills()]
    assert [(f.ts, f.side, f.qty, f.price) for f in session.trader.fills()] == expected and expected
    assert job.metrics.not_sent >= 2 and job.metrics.sent == 0
    assert job.metrics.pending() > 0  # kept for when CloudWatch is back
    assert any("metrics not sent" in r.getMessage() for r in caplog.records)
    shipper_jobs = [j for j in session.jobs if j.name == "ship"]
    assert shipper_jobs and shipper_jobs[0].runs > 0  # the rest of the cloud was used as usual


def test_the_buffer_keeps_the_newest_and_counts_what_it_dropped(moto_endpoint: str) -> None:
    metrics = CloudWatchMetrics(client("cloudwatch"), max_buffered=3)
    now = datetime.now(UTC)
    datums: list[dict[str, Any]] = [
        {"MetricName": "HostHeartbeat", "Dimensions": dimensions("BUF"), "Timestamp": now, "Value": float(i)}
        for i in range(5)
    ]
    metrics.record(datums)
    assert metrics.dropped == 2 and metrics.pending() == 3
    assert metrics.flush() == 3 and metrics.pending() == 0
    stats = statistics(HostMetric.HEARTBEAT, now, "BUF")
    assert stats["Minimum"] == 2.0 and stats["Maximum"] == 4.0


def test_a_malformed_datum_is_set_aside_not_retried_forever(moto_endpoint: str) -> None:
    metrics = CloudWatchMetrics(client("cloudwatch"))
    metrics.record([{"MetricName": "HostHeartbeat", "Value": "not a number"}])
    assert metrics.flush() == 0
    assert metrics.pending() == 0 and metrics.dropped == 1 and metrics.not_sent == 1


class Answers500(BaseHTTPRequestHandler):
    """An endpoint in trouble: every call gets a 500 with an HTML page, as an overloaded server answers."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        body = b"<h1>Internal Server Error</h1>"
        self.send_response(500)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_server_error_keeps_the_datums_for_the_next_flush(monkeypatch: pytest.MonkeyPatch) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answers500)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        metrics = CloudWatchMetrics(client("cloudwatch"))
        now = datetime.now(UTC)
        metrics.record(
            [{"MetricName": "HostHeartbeat", "Dimensions": dimensions("X"), "Timestamp": now, "Value": 1.0}]
        )
        assert metrics.flush() == 0
        assert metrics.pending() == 1 and metrics.dropped == 0 and metrics.not_sent == 1
    finally:
        server.shutdown()
        server.server_close()
