"""The local cloud: template.yaml deployed on moto, Kinesis and the schedules wired to the handlers."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from devkit.local_cloud.cloud import LocalCloud
from devkit.local_cloud.event_sources import KinesisMapping
from devkit.local_cloud.sam_translate import translate, with_local_artifacts
from devkit.local_cloud.stack import without_false_conditions
from infra.template_yaml import load_template
from regime.contracts import Bar, RegimeItem
from regime.contracts.cadence import DECISION_EVERY_MINUTES
from regime.synthetic import synthetic_days
from tests.devkit.local_cloud import failing_handler
from trader_host.analytics.lake import S3Lake
from trader_host.analytics.local_athena import LocalAthena, query_names

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cloud(moto_endpoint: str, layer_model: Path) -> LocalCloud:
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).close()
    deployed = LocalCloud.deploy(parameters={"Symbols": "CL,MCL"}, include={"RegimeFunction"})
    wired = deployed.override_env("RegimeFunction", LAYER_MODEL_PATH=str(layer_model), BAR_WAIT_SECONDS="0")
    assert [t.function for t in deployed.schedules] == [wired]
    return deployed


def test_every_resource_of_the_template_exists(cloud: LocalCloud) -> None:
    translated = translate(with_local_artifacts(load_template()), cloud.stack.parameters)
    created = without_false_conditions(translated, cloud.stack.parameters)
    assert set(cloud.stack.physical) == set(created["Resources"])
    assert "TracingPolicy" in translated["Resources"] and "TracingPolicy" not in created["Resources"]
    assert cloud.stack.not_created == []
    sam_outputs = set(load_template()["Outputs"])
    assert set(cloud.stack.outputs) == sam_outputs
    glue = boto3.client("glue")
    tables = glue.get_tables(DatabaseName=cloud.stack.outputs["GlueDatabaseName"])["TableList"]
    assert {t["Name"] for t in tables} == {"bars", "fills", "round_trips", "regimes", "orders", "risk_events"}
    assert all(t["Parameters"]["projection.hour.format"] == "yyyy/MM/dd/HH" for t in tables)
    bucket = cloud.stack.outputs["DataLakeBucketName"]
    assert all(t["Parameters"]["storage.location.template"].startswith(f"s3://{bucket}/") for t in tables)
    athena = boto3.client("athena")
    names = {
        athena.get_named_query(NamedQueryId=q)["NamedQuery"]["Name"]
        for q in athena.list_named_queries(WorkGroup=cloud.stack.outputs["AthenaWorkGroupName"])[
            "NamedQueryIds"
        ]
    }
    assert names == set(query_names())  # one named query per trader_host/analytics/queries/*.sql
    regime_env = cloud.functions["RegimeFunction"].env
    assert regime_env["SYMBOLS"] == "CL,MCL"
    assert regime_env["REGIME_TABLE"] == cloud.stack.outputs["RegimeTableName"]


def _publish(cloud: LocalCloud, bars: list[Bar]) -> None:
    kinesis = boto3.client("kinesis")
    stream = cloud.stack.outputs["BarStreamName"]
    for start in range(0, len(bars), 500):
        chunk = bars[start : start + 500]
        kinesis.put_records(
            StreamName=stream,
            Records=[{"Data": b.to_json().encode(), "PartitionKey": b.symbol} for b in chunk],
        )


def test_a_virtual_session_flows_from_kinesis_to_regime_decisions(cloud: LocalCloud) -> None:
    series = {s: synthetic_days(1, seed=21, symbol=s).bars.to_bars()[:150] for s in ("CL", "MCL")}
    start = series["CL"][0].ts
    decided: list[Any] = []
    for minute in range(150):  # the host publishes each minute's bars, in batches of symbols
        now = start + timedelta(minutes=minute + 1)
        _publish(cloud, [series[s][minute] for s in series])
        # Drive the clock on the boundaries only: the schedule fires there.
        if now.minute % DECISION_EVERY_MINUTES == 0:
            decided.extend(cloud.advance_to(now))
    regime_calls = [r for name, _, r in decided if name == "RegimeFunction"]
    assert len(regime_calls) == 30 and all(isinstance(r, dict) for r in regime_calls)
    last = regime_calls[-1]["decisions"]
    assert set(last) == {"CL", "MCL"} and all(d["written"] for d in last.values())
    assert all(d["reason"] == "" for d in last.values())  # enough history by then: real votes
    early = regime_calls[0]["decisions"]["CL"]
    assert early["regime"] == "nothing" and "insufficient history" in early["reason"]

    table = boto3.resource("dynamodb").Table(cloud.stack.outputs["RegimeTableName"])
    item = RegimeItem.from_dict(table.get_item(Key={"symbol": "MCL"})["Item"])
    assert item.window_end == start + timedelta(minutes=150)

    bars_table = boto3.resource("dynamodb").Table(cloud.stack.outputs["BarsTableName"])
    count = bars_table.query(
        KeyConditionExpression="symbol = :s", ExpressionAttributeValues={":s": "CL"}, Select="COUNT"
    )["Count"]
    assert count == 150

    s3 = boto3.client("s3")
    bucket = cloud.stack.outputs["DataLakeBucketName"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="bars/")["Contents"]]
    assert all(k.count("/") == 5 for k in keys)  # bars/YYYY/MM/DD/HH/object, as Glue's projection reads
    lines = [
        line
        for k in keys
        for line in s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode().splitlines()
    ]
    assert len(lines) == 300 and Bar.from_json(lines[0]).symbol in ("CL", "MCL")
    regimes = s3.list_objects_v2(Bucket=bucket, Prefix="regimes/")["Contents"]
    archived = [
        json.loads(x)
        for o in regimes
        for x in s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode().splitlines()
    ]
    assert len(archived) == 60

    # The named queries run on what the pipeline wrote, read back from the local S3 endpoint.
    lake = LocalAthena(S3Lake(s3, bucket))
    assert (lake.count("bars"), lake.count("regimes"), sum(lake.malformed.values())) == (300, 60, 0)
    live = {
        r["symbol"]: r
        for r in lake.run("live_accuracy").records()
        if r["model_version"] == item.model_version
    }
    for symbol in ("CL", "MCL"):
        # Decisions from minute 20 to 145 have the 14 bars before and 5 after that the label needs.
        assert live[symbol]["labelled"] >= 20, live[symbol]
        assert 0.0 <= live[symbol]["range_base_rate"] <= 1.0
    assert lake.run("trade_statistics").empty  # no fills in this session: an empty table, not an error


def test_a_batch_that_keeps_failing_is_retried_then_sent_to_the_failure_queue(cloud: LocalCloud) -> None:
    source = cloud.sources[0]
    real = source.mappings[0]
    assert real.on_failure_arn is not None  # the template gives the mapping an on-failure queue
    failing = dataclasses.replace(
        real.function, module="tests.devkit.local_cloud.failing_handler", handler="lambda_handler"
    )
    source.mappings[0] = KinesisMapping(
        failing, batch_size=10, max_retries=2, on_failure_arn=real.on_failure_arn
    )
    try:
        failing_handler.CALLS.clear()
        _publish(cloud, synthetic_days(1, seed=2, symbol="BAD").bars.to_bars()[:3])
        for _ in range(4):
            cloud.pump()
        assert failing_handler.CALLS == [3, 3, 3]  # the first try and two retries, then given up
        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName=real.on_failure_arn.rsplit(":", 1)[-1])["QueueUrl"]
        bodies = [
            json.loads(m["Body"])
            for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        ]
        assert [b["KinesisBatchInfo"]["batchSize"] for b in bodies] == [3]
        assert bodies[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    finally:
        source.mappings[0] = real


def test_moto_never_runs_the_functions_in_containers(cloud: LocalCloud, moto_endpoint: str) -> None:
    """With a Docker daemon running, moto would start a container per Kinesis batch (from an image no
    registry here serves) and put_records would hang until its read timeout."""
    with urllib.request.urlopen(f"{moto_endpoint}/moto-api/config", timeout=5) as response:
        config = json.loads(response.read())
    assert config["lambda"]["use_docker"] is False
    kinesis = boto3.client("kinesis", config=Config(read_timeout=10, retries={"max_attempts": 1}))
    bar = synthetic_days(1, seed=2).bars.to_bars()[0]
    answer = kinesis.put_records(
        StreamName=cloud.stack.outputs["BarStreamName"],
        Records=[{"Data": bar.to_json().encode(), "PartitionKey": bar.symbol}],
    )
    assert answer["FailedRecordCount"] == 0


def test_on_the_real_clock_a_regime_wait_for_the_last_bar_does_not_hold_up_its_ingest(
    cloud: LocalCloud, layer_model: Path
) -> None:
    # The red team (22.10): the regime function's wait for the last bar (20 s) ran on the thread that ingests
    # from Kinesis, so the bar it waited for could not arrive: most decisions came late, a minute short.
    late = LocalCloud.deploy(
        "regime-trader-late", {"Symbols": "LATE", "Stage": "late"}, include={"RegimeFunction"}
    )
    late.override_env(
        "RegimeFunction", LAYER_MODEL_PATH=str(layer_model), BAR_WAIT_SECONDS="15", BAR_POLL_SECONDS="0.1"
    )
    bars = synthetic_days(1, seed=22, symbol="LATE").bars.to_bars()[:120]
    boundary = next(b.ts for b in bars[100:] if b.ts.minute % DECISION_EVERY_MINUTES == 0)
    _publish(late, [b for b in bars if b.ts < boundary - timedelta(minutes=1)])
    late.pump()
    stop = threading.Event()
    follower = threading.Thread(target=late.run, args=(stop, 0.1), kwargs={"clock": lambda: boundary})
    follower.start()
    try:
        deadline = time.monotonic() + 60
        while not any(name == "RegimeFunction" for name, _ in late.fired):
            assert time.monotonic() < deadline, "the schedule did not fire"
            time.sleep(0.05)
        time.sleep(1.0)  # the function is waiting for the last bar now
        _publish(late, [b for b in bars if b.ts == boundary - timedelta(minutes=1)])
        deadline = time.monotonic() + 60
        while not late.history:
            assert time.monotonic() < deadline, "no decision within a minute"
            time.sleep(0.05)
    finally:
        stop.set()
        follower.join(60)
    ((_, at, result),) = late.history
    assert at == boundary and isinstance(result, dict), result
    assert result["decisions"]["LATE"]["window_end"] == boundary.strftime("%Y-%m-%dT%H:%M:00Z")
