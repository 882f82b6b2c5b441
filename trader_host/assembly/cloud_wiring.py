"""The cloud side of the live host: the stack's adapters, each a CloudJob the session runs off its loop.

Bars go to Kinesis, the journal to Firehose, the kill switch is read from SSM, the regime (unless fixed by
`--regime`) from DynamoDB, and the host's metrics go to CloudWatch. Every client is built from one explicit
`AwsAccess` (endpoint, region, credentials): the wiring reads no environment variable and writes none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trader_host.cloud.aws import AwsAccess
from trader_host.cloud.bar_publisher import KinesisBarPublisher
from trader_host.cloud.journal_shipper import JournalShipper
from trader_host.cloud.kill_switch import SsmKillSwitch
from trader_host.cloud.metrics_publisher import MetricsJob, host_metrics_job
from trader_host.cloud.regime_reader import DynamoRegimeReader
from trader_host.cloud.stack_outputs import CloudNames
from trading_engine.cloud_job import CloudJob
from trading_engine.config import HostConfig
from trading_engine.journal.trade_journal import TradeJournal
from trading_engine.regime_source import RegimeSource
from trading_engine.session import TradingSession

SHIP_EARLY_BYTES = 64 * 1024  # ship before the timer when this much journal waits


@dataclass
class CloudWiring:
    """The adapters a TradingSession takes (`attach` hands the metrics sampler the session, once built)."""

    bars: KinesisBarPublisher
    kill_switch: SsmKillSwitch
    metrics: MetricsJob
    regime: RegimeSource | None = None  # the DynamoDB reader; None when the regime is fixed
    jobs: list[CloudJob] = field(default_factory=list)
    final_jobs: list[CloudJob] = field(default_factory=list)  # run once more at the end: ship what is left

    def attach(self, session: TradingSession) -> None:
        """Let the metrics read the session they report on."""
        self.metrics.sampler.attach(session)


def wire_cloud(
    names: CloudNames,
    access: AwsAccess,
    config: HostConfig,
    *,
    symbol: str,
    journal: TradeJournal,
    spool: Path,
    started_at: float,
    read_regime: bool,
    live_clock: bool,
    metric_lines: Path | None = None,
) -> CloudWiring:
    """The adapters of the stack `names` names, on `access`.

    `read_regime`: read the regime the cloud decides (no fixed `--regime`). `live_clock`: the metrics wake the
    loop on the wall clock (a virtual clock has no quiet hours to fill). `metric_lines`: the EMF lines of the
    metrics no alarm reads go to this file instead of stdout.
    """
    cc = config.cloud
    bars = KinesisBarPublisher(
        access.client("kinesis"),
        names.bar_stream,
        spool,
        batch_size=cc.publish_batch_size,
        interval_s=cc.publish_interval_s,
    )
    kill_switch = SsmKillSwitch(
        access.client("ssm"), names.kill_switch_parameter, config.risk.kill_switch_poll_s
    )
    shipper = JournalShipper(journal, access.client("firehose"), names.journal_streams())
    ship = CloudJob(
        "ship",
        lambda now: shipper.ship(),
        cc.publish_interval_s,
        ready=lambda: shipper.backlog_bytes() >= SHIP_EARLY_BYTES,
    )
    jobs: list[CloudJob] = [ship]
    regime: RegimeSource | None = None
    if read_regime:
        table = access.resource("dynamodb").Table(names.regime_table)
        reader = DynamoRegimeReader(table, symbol, cc.regime_poll_s)
        regime = reader
        jobs.append(
            CloudJob("regime", reader.refresh, cc.regime_poll_s, schedule=reader.next_read_at, wall=False)
        )
    metrics = host_metrics_job(
        access.client("cloudwatch"),
        symbol,
        started_at,
        shipper,
        bars,
        wakes_loop=live_clock,
        metric_lines=metric_lines,
    )
    jobs.append(metrics)
    final = [ship, CloudJob("metrics-final", metrics.final, float("inf"))]
    return CloudWiring(bars, kill_switch, metrics, regime, jobs, final)
