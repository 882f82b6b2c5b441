"""TradingSession: the kill switch halts and flattens mid-session; bars and records reach their sinks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from regime.contracts import Bar, ExitReason, Fill, Regime, RoundTrip
from regime.synthetic import synthetic_days
from trader_host.broker.sim.market_tape import MarketTape
from trader_host.broker.sim.sim_broker import SimBroker
from trader_host.cloud.aws import client
from trader_host.cloud.bar_publisher import KinesisBarPublisher
from trader_host.cloud.kill_switch import SsmKillSwitch
from trader_host.cloud.record_sink import FirehoseRecordSink
from trader_host.config import HostConfig, RiskConfig
from trader_host.fees import TIERED
from trader_host.instruments import SYNTHETIC_SESSION, contract
from trader_host.regime_source import FixedRegime
from trader_host.session import TradingSession
from trader_host.trader import Trader

CONFIG = HostConfig(risk=RiskConfig(max_daily_loss_usd=1e6))


class KillAt:
    """An operator who pulls the switch at a given time."""

    poll_interval_s = 5.0

    def __init__(self, at: float) -> None:
        self.at = at
        self.polls = 0

    def engaged(self, now: float) -> bool:
        self.polls += 1
        return now >= self.at


class Collect:
    def __init__(self) -> None:
        self.records: list[Fill | RoundTrip] = []
        self.bars: list[Bar] = []
        self.flushes = 0

    def put(self, records: list[Fill | RoundTrip]) -> None:
        self.records += records

    def publish(self, bar: Bar) -> None:
        self.bars.append(bar)

    def flush(self) -> None:
        self.flushes += 1


def test_kill_switch_mid_session_flattens_and_stops() -> None:
    market = synthetic_days(1, seed=3)
    tape = MarketTape.from_synthetic(market)
    trader = Trader(contract("CL").with_session(SYNTHETIC_SESSION), CONFIG)
    broker = SimBroker(tape, TIERED, CONFIG.sim)
    # Kill while a position is open: find one in a dry run first.
    dry = Trader(contract("CL").with_session(SYNTHETIC_SESSION), CONFIG)
    asyncio.run(TradingSession(SimBroker(tape, TIERED, CONFIG.sim), dry, FixedRegime(Regime.TREND)).run())
    first = dry.ledger.round_trips[3]
    kill_at = (first.entry_ts.timestamp() + first.exit_ts.timestamp()) / 2
    switch, sink = KillAt(kill_at), Collect()
    session = TradingSession(
        broker, trader, FixedRegime(Regime.TREND), kill_switch=switch, records=sink, bars=sink
    )
    asyncio.run(session.run())
    trips = trader.ledger.round_trips
    assert trips[-1].exit_reason is ExitReason.KILL and trader.is_idle
    assert all(t.entry_ts.timestamp() < kill_at for t in trips)  # nothing opened after the kill
    assert broker.now() < kill_at + 60  # and the session stopped
    assert switch.polls > 10
    assert [r for r in sink.records if isinstance(r, RoundTrip)] == trips
    assert len([r for r in sink.records if isinstance(r, Fill)]) == len(trader.ledger.fills)
    assert sink.bars and sink.bars[0].symbol == "CL" and sink.flushes == 2


@pytest.mark.integration
def test_session_end_to_end_through_the_local_cloud(moto_reset: str, tmp_path: Path) -> None:
    kinesis, firehose, ssm, s3 = client("kinesis"), client("firehose"), client("ssm"), client("s3")
    kinesis.create_stream(StreamName="bars", ShardCount=1)
    s3.create_bucket(Bucket="lake")
    for name in ("fills", "trips"):
        firehose.create_delivery_stream(
            DeliveryStreamName=name,
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/f",
                "BucketARN": "arn:aws:s3:::lake",
                "Prefix": f"{name}/",
            },
        )
    ssm.put_parameter(Name="/regime-trader/dev/kill-switch", Value="off", Type="String")
    market = synthetic_days(1, seed=3)
    tape = MarketTape.from_synthetic(market)
    trader = Trader(contract("CL").with_session(SYNTHETIC_SESSION), CONFIG)
    session = TradingSession(
        SimBroker(tape, TIERED, CONFIG.sim),
        trader,
        FixedRegime(Regime.TREND),
        kill_switch=SsmKillSwitch(ssm, "/regime-trader/dev/kill-switch", poll_interval_s=600.0),
        records=FirehoseRecordSink(firehose, "fills", "trips", tmp_path),
        bars=KinesisBarPublisher(kinesis, "bars", tmp_path, batch_size=500, interval_s=1e9),
    )
    asyncio.run(session.run())
    shard = kinesis.describe_stream(StreamName="bars")["StreamDescription"]["Shards"][0]["ShardId"]
    it = kinesis.get_shard_iterator(StreamName="bars", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    assert len(kinesis.get_records(ShardIterator=it["ShardIterator"], Limit=10_000)["Records"]) == tape.n_bars
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake").get("Contents", [])]
    assert any(k.startswith("fills/") for k in keys) and any(k.startswith("trips/") for k in keys)
    assert trader.ledger.round_trips
