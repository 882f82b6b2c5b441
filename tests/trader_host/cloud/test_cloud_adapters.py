"""Cloud adapters against a real local endpoint (moto server): Kinesis, DynamoDB, Firehose and SSM."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from regime.contracts import Bar, BarSource, Fill, Regime, RegimeItem, RoundTrip
from regime.contracts.cadence import DECISION_VALIDITY
from regime.contracts.numbers import exact_decimals
from tests.sample_records import sample_fill, sample_trip
from trader_host.cloud.aws import client
from trader_host.cloud.bar_publisher import KinesisBarPublisher
from trader_host.cloud.batching import send_batches
from trader_host.cloud.journal_shipper import JournalShipper
from trader_host.cloud.kill_switch import SsmKillSwitch
from trader_host.cloud.regime_reader import DynamoRegimeReader, usable_regime
from trading_engine.journal.trade_journal import TradeJournal

pytestmark = pytest.mark.integration
T0 = datetime(2026, 1, 13, 15, 0, tzinfo=UTC)
DEAD = "http://127.0.0.1:9"  # nothing listens there: the cloud is unreachable


def dead_client(service: str) -> Any:
    cfg = Config(connect_timeout=0.2, read_timeout=0.2, retries={"max_attempts": 1})
    return boto3.client(service, endpoint_url=DEAD, config=cfg)  # type: ignore[call-overload]


def bars(n: int, symbol: str = "CL") -> list[Bar]:
    return [
        Bar(symbol, T0 + timedelta(minutes=k), 70.0, 70.02, 69.99, 70.01, 10 + k, BarSource.SIM)
        for k in range(n)
    ]


def read_stream(kinesis: Any, stream: str) -> list[dict[str, Any]]:
    shard = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    out = kinesis.get_records(ShardIterator=it["ShardIterator"], Limit=10_000)
    return [{"key": r["PartitionKey"], **json.loads(r["Data"])} for r in out["Records"]]


@pytest.fixture
def kinesis(moto_reset: str) -> Iterator[Any]:
    # Set-up with boto3's patient defaults (the host's 3-s timeout could retry a slow create into an error).
    boto3.client("kinesis").create_stream(StreamName="bars", ShardCount=1)
    yield client("kinesis")


def test_bar_publisher_batches_to_kinesis(kinesis: Any, tmp_path: Path) -> None:
    pub = KinesisBarPublisher(kinesis, "bars", tmp_path, batch_size=100, interval_s=1e9)
    for bar in bars(250):
        pub.publish(bar)
    assert pub.sent == 0 and pub.pending() == 250
    pub.flush()
    assert pub.sent == 250 and pub.pending() == 0
    records = read_stream(kinesis, "bars")
    assert len(records) == 250 and {r["key"] for r in records} == {"CL"}
    assert [Bar.from_dict({k: v for k, v in r.items() if k != "key"}) for r in records] == bars(250)


def test_bar_publisher_spools_while_unreachable_and_replays_in_order(kinesis: Any, tmp_path: Path) -> None:
    down = KinesisBarPublisher(dead_client("kinesis"), "bars", tmp_path, batch_size=10, sleep=lambda s: None)
    for bar in bars(25):
        down.publish(bar)
    down.flush()
    assert len(down.spool) == 25 and down.sent == 0
    up = KinesisBarPublisher(kinesis, "bars", tmp_path, batch_size=10)
    more = bars(30)[25:]
    for bar in more:
        up.publish(bar)
    up.flush()
    assert len(up.spool) == 0
    records = read_stream(kinesis, "bars")
    assert [r["ts"] for r in records] == [b.to_dict()["ts"] for b in bars(30)]  # nothing lost, oldest first


def test_throttled_records_are_retried_then_spooled(tmp_path: Path) -> None:
    k = boto3.client("kinesis", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    throttled = {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"}
    ok = {"SequenceNumber": "1", "ShardId": "shardId-000000000000"}
    with Stubber(k) as stub:  # botocore's own stubber: the real client, scripted answers
        stub.add_response("put_records", {"FailedRecordCount": 1, "Records": [ok, throttled]})
        stub.add_response("put_records", {"Records": [ok]})
        pub = KinesisBarPublisher(k, "bars", tmp_path, batch_size=2, sleep=lambda s: None)
        for bar in bars(2):
            pub.publish(bar)
        assert pub.pending() == 2  # publishing only queues: the loop never waits for the stream
        pub.flush()
        stub.assert_no_pending_responses()
    assert pub.sent == 2 and len(pub.spool) == 0
    waits: list[float] = []
    left = send_batches(
        ["a", "b", "c"], lambda batch: ["Throttled"] * len(batch), max_batch=2, attempts=3, sleep=waits.append
    )
    assert left == ["a", "b", "c"] and waits == [0.05, 0.1, 0.05, 0.1]  # backoff per batch, then spooled


@pytest.fixture
def regime_table(moto_reset: str) -> Any:
    ddb = boto3.resource("dynamodb")
    return ddb.create_table(
        TableName="regime",
        KeySchema=[{"AttributeName": "symbol", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "symbol", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def put_regime(table: Any, regime: Regime, window_end: datetime, symbol: str = "CL") -> None:
    item = RegimeItem(
        symbol,
        regime,
        window_end,
        window_end + timedelta(seconds=3),
        window_end + DECISION_VALIDITY,
        "v1",
        trend_vote=True,
        trend_confidence=2.1,
    )
    table.put_item(Item=exact_decimals(item.to_dict()))


def test_regime_reader_valid_expired_missing_malformed(regime_table: Any) -> None:
    reader = DynamoRegimeReader(regime_table, "CL", poll_s=10.0)
    now = T0.timestamp()
    reader.refresh()
    assert reader.regime_at(now) is Regime.NOTHING  # missing
    put_regime(regime_table, Regime.TREND, T0)
    assert reader.regime_at(now + 1) is Regime.NOTHING  # the cache answers until the next read
    reader.refresh()
    assert reader.regime_at(now + 10) is Regime.TREND
    assert reader.regime_at(now + 359) is Regime.TREND
    assert reader.decision_at(now + 359) == T0  # the decision behind it, by its key
    assert reader.confidence_at(now + 359) == 2.1  # its vote confidence (strategy.min_confidence)
    assert reader.regime_at(now + 360) is Regime.NOTHING  # expired: valid_until = window_end + 6 min
    assert reader.decision_at(now + 360) is None
    assert reader.confidence_at(now + 360) == 0.0
    regime_table.put_item(Item={"symbol": "CL", "regime": "sideways"})
    reader.refresh()
    assert reader.regime_at(now + 361) is Regime.NOTHING and reader.errors == 1
    assert reader.decision_at(now + 10) is None  # a malformed item is no decision


def test_regime_reader_reads_again_only_when_a_new_decision_is_due(regime_table: Any) -> None:
    reader = DynamoRegimeReader(regime_table, "CL", poll_s=5.0)
    boundary = T0.timestamp()
    reader.refresh()
    assert reader.next_read_at(boundary + 2) == boundary + 7  # not in yet: retry soon
    assert reader.next_read_at(boundary + 58) == boundary + 301  # a minute late: wait for the next one
    put_regime(regime_table, Regime.RANGE, T0)
    reader.refresh()
    assert reader.next_read_at(boundary + 8) == boundary + 301  # in: wait for the next boundary


def test_a_stale_decision_with_a_future_valid_until_is_nothing(regime_table: Any) -> None:
    old = T0 - timedelta(hours=5)
    item = RegimeItem("CL", Regime.TREND, old, old, T0 + timedelta(hours=1), "v1")
    regime_table.put_item(Item=json.loads(json.dumps(item.to_dict()), parse_float=Decimal))
    reader = DynamoRegimeReader(regime_table, "CL")
    reader.refresh()
    assert reader.item is not None and reader.item.valid_until > T0
    assert reader.regime_at(T0.timestamp()) is Regime.NOTHING  # its window ended 5 hours ago
    assert usable_regime(item, old.timestamp() + 60) is Regime.TREND  # fresh, it would have counted
    assert usable_regime(item, old.timestamp() - 3600) is Regime.NOTHING  # about a window not yet over


def test_a_decision_of_an_unknown_model_version_is_nothing() -> None:
    fresh = RegimeItem("CL", Regime.RANGE, T0, T0, T0 + timedelta(minutes=6), "none")
    assert usable_regime(fresh, T0.timestamp() + 30) is Regime.NOTHING
    assert usable_regime(replace(fresh, model_version="v7"), T0.timestamp() + 30) is Regime.RANGE


def test_regime_reader_keeps_the_cached_item_when_the_cloud_is_down(regime_table: Any) -> None:
    put_regime(regime_table, Regime.RANGE, T0)
    reader = DynamoRegimeReader(regime_table, "CL", poll_s=10.0)
    now = T0.timestamp()
    reader.refresh()
    assert reader.regime_at(now) is Regime.RANGE
    reader.table = boto3.resource(
        "dynamodb",
        endpoint_url=DEAD,
        config=Config(connect_timeout=0.2, read_timeout=0.2, retries={"max_attempts": 1}),
    ).Table("regime")
    reader.refresh()
    assert reader.regime_at(now + 20) is Regime.RANGE and reader.errors == 1
    assert reader.regime_at(now + 400) is Regime.NOTHING  # but its expiry still applies


def fill(n: int) -> Fill:
    return sample_fill(n)


def trip(n: int) -> RoundTrip:
    return sample_trip(n)


# Journal kind -> (stream, lake prefix)
STREAMS = {
    "fill": ("fills", "fills/"),
    "round_trip": ("trips", "round_trips/"),
    "order": ("orders", "orders/"),
    "risk_event": ("risk-events", "risk_events/"),
}
NAMES = {kind: stream for kind, (stream, _) in STREAMS.items()}


@pytest.fixture
def firehose(moto_reset: str) -> Any:
    s3 = boto3.client("s3")  # set-up: boto3's patient defaults
    s3.create_bucket(Bucket="lake")
    fh = boto3.client("firehose")
    for name, prefix in STREAMS.values():
        fh.create_delivery_stream(
            DeliveryStreamName=name,
            DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                "BucketARN": "arn:aws:s3:::lake",
                "Prefix": prefix,
                "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 1},
            },
        )
    return client("firehose")  # the host's, for the code under test


def lake_lines(prefix: str) -> list[dict[str, Any]]:
    s3 = client("s3")
    out = []
    for obj in s3.list_objects_v2(Bucket="lake", Prefix=prefix).get("Contents", []):
        body = s3.get_object(Bucket="lake", Key=obj["Key"])["Body"].read().decode()
        out += [json.loads(line) for line in body.splitlines() if line.strip()]
    return out


def test_journal_shipper_delivers_each_kind_to_its_stream(firehose: Any, tmp_path: Path) -> None:
    journal = TradeJournal(tmp_path / "CL.journal")
    journal.append([fill(1), fill(2), trip(1)])
    shipper = JournalShipper(journal, firehose, NAMES)
    assert shipper.backlog_bytes() > 0
    assert shipper.ship() == 3 and shipper.backlog_bytes() == 0
    assert shipper.ship() == 0  # nothing new: no call
    fills = lake_lines("fills/")
    assert sorted(f["execution_id"] for f in fills) == ["x1", "x2"]
    (rt,) = lake_lines("round_trips/")
    assert rt["trip_id"] == "rt-x1" and rt["net_usd"] == pytest.approx(17.16)
    assert fills[0] == fill(1).to_dict()  # the lake gets the contract's own JSON


def test_order_outcomes_and_risk_events_reach_their_own_prefixes(firehose: Any, tmp_path: Path) -> None:
    from tests.trader_host.analytics.hand_lake import orders, risk_events

    journal = TradeJournal(tmp_path / "CL.journal")
    journal.append([fill(1), *orders()[:3], *risk_events()])
    assert JournalShipper(journal, firehose, NAMES).ship() == 6
    assert [o["order_id"] for o in lake_lines("orders/")] == ["o1a", "o1b", "o2a"]
    assert lake_lines("risk_events/") == [e.to_dict() for e in risk_events()]
    assert [f["execution_id"] for f in lake_lines("fills/")] == ["x1"] and lake_lines("round_trips/") == []


def test_journal_shipper_names_a_missing_or_unknown_stream(tmp_path: Path) -> None:
    journal = TradeJournal(tmp_path / "CL.journal")
    with pytest.raises(ValueError, match=r"missing \['order', 'risk_event'\], unknown \['quote'\]"):
        JournalShipper(journal, None, {"fill": "f", "round_trip": "t", "quote": "q"})


def test_journal_shipper_keeps_everything_while_unreachable_then_ships(firehose: Any, tmp_path: Path) -> None:
    journal = TradeJournal(tmp_path / "CL.journal")
    journal.append([fill(1), trip(1)])
    down = JournalShipper(journal, dead_client("firehose"), NAMES, sleep=lambda s: None)
    assert down.ship() == 0 and lake_lines("fills/") == []
    journal.append([fill(2)])
    up = JournalShipper(TradeJournal(tmp_path / "CL.journal"), firehose, NAMES)  # a restart
    assert up.ship() == 3
    assert sorted(f["execution_id"] for f in lake_lines("fills/")) == ["x1", "x2"]
    assert [t["trip_id"] for t in lake_lines("round_trips/")] == ["rt-x1"]


def test_a_lost_answer_resends_and_the_lake_dedupes_on_the_id(firehose: Any, tmp_path: Path) -> None:
    journal = TradeJournal(tmp_path / "CL.journal")
    journal.append([fill(1), fill(2)])
    shipper = JournalShipper(journal, firehose, NAMES)
    real_put = firehose.put_record_batch

    def accepted_then_lost(**kwargs: Any) -> Any:
        real_put(**kwargs)  # the server takes the batch ...
        raise EndpointConnectionError(endpoint_url="lost")  # ... and its answer never arrives

    firehose.put_record_batch = accepted_then_lost
    assert shipper.ship() == 0
    firehose.put_record_batch = real_put
    assert shipper.ship() == 2
    ids = [f["execution_id"] for f in lake_lines("fills/")]
    assert sorted(ids) == ["x1", "x1", "x2", "x2"]  # at least once ...
    assert sorted(set(ids)) == ["x1", "x2"]  # ... and exactly once after deduplication on the id


def test_kill_switch_reads_ssm(moto_reset: str) -> None:
    ssm = client("ssm")
    switch = SsmKillSwitch(ssm, "/regime-trader/dev/kill-switch")
    assert switch.engaged(0.0) is False  # no parameter: off
    boto3.client("ssm").put_parameter(Name="/regime-trader/dev/kill-switch", Value="off", Type="String")
    assert switch.engaged(1.0) is False
    ssm.put_parameter(Name="/regime-trader/dev/kill-switch", Value="on", Type="String", Overwrite=True)
    assert switch.engaged(2.0) is True
    switch.client = dead_client("ssm")
    assert switch.engaged(3.0) is True  # unreadable: keeps the last known state


@pytest.mark.parametrize("value", ["yes", "Off", "off ", "0", "false", "disabled", ""])
def test_the_kill_switch_fails_closed_on_anything_but_off(
    moto_reset: str, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The red team (22.6): `yes` counted as off, with no warning, and the host traded.
    ssm = boto3.client("ssm")  # boto3's patient defaults: a loaded machine does not flip the outcome
    name = "/regime-trader/dev/kill-switch"
    ssm.put_parameter(Name=name, Value="off", Type="String", Overwrite=True)
    switch = SsmKillSwitch(ssm, name)
    assert switch.engaged(0.0) is False
    if value:
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
    else:
        ssm.delete_parameter(Name=name)  # SSM holds no empty String: the nearest is none at all
    with caplog.at_level(logging.ERROR, logger="trader_host.cloud.kill_switch"):
        engaged = switch.engaged(1.0)
    if value:
        assert engaged is True
        assert f"holds {value!r}, which is not 'off'" in caplog.text and "ENGAGED" in caplog.text
    else:
        assert engaged is False  # a missing parameter stays off (a stack without one has no switch)
