"""What the cloud costs per month, computed from template.yaml and a stated usage, for 1, 10 and 100 symbols.

The template gives the sizes (Kinesis shards, each function's memory, the schedules, how many alarms,
metrics in alarms, dashboards, keys), and infra/host/template.yaml the host's (its instance type, its disk,
its secret and key; one host per symbol: it runs one `regime-trader run`); USAGE states the rest (trading
hours, bars, round trips, how long each invocation runs); PRICES are us-east-1 list prices (arm64 Lambda,
on-demand DynamoDB, provisioned Kinesis, on-demand EC2), without the free tier. The README's table is this
module's output, and a test keeps the two equal: `.venv/bin/python -m bench cost_model` prints it.

Custom metrics: only the host's alarmed ones (host_metrics.PER_SYMBOL) are per symbol, each host with its
own copy of the template's host alarms (the template deploys them for HostSymbol); every other metric, the
functions' and the host's EMF lines, has the service dimension alone and is paid once (FUNCTION_METRICS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from infra.host import HOST_TEMPLATE
from infra.template_yaml import load_template
from trader_host.cloud.host_metrics import PER_SYMBOL, HostMetric
from trader_host.cloud.metrics_publisher import METRICS_EVERY_S

HOURS_PER_MONTH = 730.0
DAYS_PER_MONTH = 30.4
PRICES = {
    "kinesis_shard_hour": 0.015,
    "kinesis_put_unit_million": 0.014,
    "lambda_arm_gb_second": 0.0000133334,
    "lambda_request_million": 0.20,
    "dynamodb_write_million": 0.625,
    "dynamodb_read_million": 0.125,
    "firehose_gb": 0.029,  # each record rounded up to 5 KB
    "kms_key_month": 1.00,
    "cloudwatch_alarm_metric": 0.10,
    "cloudwatch_custom_metric": 0.30,
    "cloudwatch_dashboard": 3.00,
    "cloudwatch_logs_gb": 0.50,
    "cloudwatch_put_metric_thousand": 0.01,  # PutMetricData requests
    "ebs_gp3_gb_month": 0.08,
    "secret_month": 0.40,
}
EC2_HOUR = {"t4g.medium": 0.0336, "t4g.large": 0.0672}  # Linux on-demand, the host template's choices
# Every metric the functions emit, all under the service dimension alone (a test checks the code names no
# other); Powertools adds ColdStart, per function.
FUNCTION_METRICS = (
    *("BarsWritten", "BarsRejected", "BarsRetried", "BarConflicts"),  # ingest_bars
    *("DecisionsWritten", "SymbolFailures", "DecisionLatency", "HistoryNotArchived", "ModelFallback"),
    *("RegimeTrend", "RegimeRange", "RegimeNothing"),  # regime: decisions of each regime, all symbols
    *("TrainRequested", "ModelsPromoted", "Holdout_trend_auc", "Holdout_range_auc"),  # train
    "Holdout_net_ticks_per_trip",
    *("ColdStart/ingest_bars", "ColdStart/regime", "ColdStart/train"),
)
# The host's metrics no alarm reads: EMF lines, one metric each for the whole fleet.
HOST_FLEET_METRICS = len(HostMetric) - len(PER_SYMBOL)


@dataclass(frozen=True)
class Usage:
    """The stated usage (one symbol's figures scale with the number of symbols)."""

    trading_hours_per_day: float = 23.0
    trading_days_per_month: float = 21.0
    round_trips_per_day: float = 20.0  # two fills each; order of the backtests' ~1 round turn an hour
    regime_seconds_base: float = (
        0.30  # per invocation (pointer, model cached), measured on the local endpoint
    )
    regime_seconds_per_symbol: float = (
        0.03  # query + features + ONNX + two writes, measured (bench regime_scale)
    )
    ingest_seconds: float = 0.05  # one batch a minute: every symbol's bar of that minute
    train_seconds_per_symbol: float = 300.0
    log_bytes_per_decision: float = 1500.0  # the decision line (regime, confidences, outcome, model)
    host_metric_line_bytes: float = 700.0  # a sample's EMF line (655 bytes with every metric) + 26 per event


USAGE = Usage()


def per_month(cron: str) -> float:
    """Runs per month of an EventBridge cron of the template's forms ('0/5 * * * ? *', '0 23 ? * SAT *')."""
    fields = cron.removeprefix("cron(").removesuffix(")").split()
    minute, hour, _dom, _month, dow = fields[:5]
    per_hour = 60 / int(minute.split("/")[1]) if "/" in minute else 1.0
    per_day = per_hour * (24 if hour == "*" else len(hour.split(",")))
    if re.fullmatch(r"[A-Z]{3}(,[A-Z]{3})*", dow):
        return per_day * len(dow.split(",")) * DAYS_PER_MONTH / 7
    return per_day * DAYS_PER_MONTH


@dataclass(frozen=True)
class Sizes:
    """What the template fixes."""

    shards: int
    memory_mb: dict[str, int]
    regime_runs: float
    train_runs: float
    alarm_metrics: int  # the stack's own (a host's are counted per symbol: host_alarms)
    host_alarms: int  # the alarms on one host's metrics (HostSymbol's)
    dashboards: int
    keys: int

    @classmethod
    def of(cls, template: dict[str, Any]) -> Sizes:
        res, params = template["Resources"], template["Parameters"]
        default_memory = int(template["Globals"]["Function"]["MemorySize"])
        memory = {
            k: int(r["Properties"].get("MemorySize", default_memory))
            for k, r in res.items()
            if r["Type"] == "AWS::Serverless::Function"
        }
        alarms = [r["Properties"] for r in res.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
        return cls(
            shards=sum(
                int(r["Properties"]["ShardCount"])
                for r in res.values()
                if r["Type"] == "AWS::Kinesis::Stream"
            ),
            memory_mb=memory,
            regime_runs=per_month(params["RegimeSchedule"]["Default"]),
            train_runs=per_month(params["TrainSchedule"]["Default"]),
            alarm_metrics=sum(
                len([m for m in a.get("Metrics", []) if "MetricStat" in m]) or 1
                for a in alarms
                if not _per_host(a)
            ),
            host_alarms=sum(1 for a in alarms if _per_host(a)),
            dashboards=sum(1 for r in res.values() if r["Type"] == "AWS::CloudWatch::Dashboard"),
            keys=sum(1 for r in res.values() if r["Type"] == "AWS::KMS::Key"),
        )


def monthly(sizes: Sizes, symbols: int, usage: Usage = USAGE) -> dict[str, float]:
    """USD per month by service."""
    p = PRICES
    bars = symbols * usage.trading_hours_per_day * 60 * usage.trading_days_per_month
    minutes = usage.trading_hours_per_day * 60 * usage.trading_days_per_month
    decisions = sizes.regime_runs * symbols

    def gb_s(name: str, seconds: float) -> float:
        return seconds * sizes.memory_mb[name] / 1024 * p["lambda_arm_gb_second"]

    regime_s = sizes.regime_runs * (usage.regime_seconds_base + usage.regime_seconds_per_symbol * symbols)
    lambda_usd = (
        gb_s("RegimeFunction", regime_s)
        + gb_s("IngestBarsFunction", minutes * usage.ingest_seconds)
        + gb_s("TrainFunction", sizes.train_runs * symbols * usage.train_seconds_per_symbol)
        + (sizes.regime_runs + minutes + sizes.train_runs) / 1e6 * p["lambda_request_million"]
    )
    fills = 3 * usage.round_trips_per_day * usage.trading_days_per_month * symbols  # 2 fills + 1 round trip
    return {
        "Kinesis": sizes.shards * HOURS_PER_MONTH * p["kinesis_shard_hour"]
        + bars / 1e6 * p["kinesis_put_unit_million"],
        "Lambda": lambda_usd,
        # bars: 1 write each; decisions: item, history, archived mark; reads: an 80-bar window, the host's
        # GetItem of the regime each minute.
        "DynamoDB": (bars + 3 * decisions) / 1e6 * p["dynamodb_write_million"]
        + (4 * decisions + minutes * symbols) / 1e6 * p["dynamodb_read_million"],
        "Firehose": (bars + decisions + fills) * 5 / 1024 / 1024 * p["firehose_gb"],
        "KMS": sizes.keys * p["kms_key_month"],
        "CloudWatch": sizes.alarm_metrics * p["cloudwatch_alarm_metric"]
        + sizes.dashboards * p["cloudwatch_dashboard"]
        + (len(FUNCTION_METRICS) + HOST_FLEET_METRICS) * p["cloudwatch_custom_metric"]
        + decisions * usage.log_bytes_per_decision / 1024**3 * p["cloudwatch_logs_gb"],
    }


def _per_host(alarm: dict[str, Any]) -> bool:
    """An alarm on one host's metrics (its dimensions name the HostSymbol parameter)."""
    return {"Name": "symbol", "Value": {"Ref": "HostSymbol"}} in alarm.get("Dimensions", [])


@dataclass(frozen=True)
class HostSizes:
    """What infra/host/template.yaml fixes for one host."""

    instance_type: str
    disk_gb: int
    secrets: int
    keys: int

    @classmethod
    def of(cls, template: dict[str, Any]) -> HostSizes:
        res = template["Resources"]
        volumes = [
            m["Ebs"]["VolumeSize"]
            for r in res.values()
            if r["Type"] == "AWS::EC2::LaunchTemplate"
            for m in r["Properties"]["LaunchTemplateData"].get("BlockDeviceMappings", [])
        ]
        return cls(
            instance_type=str(template["Parameters"]["InstanceType"]["Default"]),
            disk_gb=int(sum(volumes)),
            secrets=sum(1 for r in res.values() if r["Type"] == "AWS::SecretsManager::Secret"),
            keys=sum(1 for r in res.values() if r["Type"] == "AWS::KMS::Key"),
        )


def host_monthly(host: HostSizes, sizes: Sizes, symbols: int, usage: Usage = USAGE) -> dict[str, float]:
    """USD per month of the hosts (one per symbol), by item."""
    p = PRICES
    samples = HOURS_PER_MONTH * 3600 / METRICS_EVERY_S  # one sample (a PutMetricData, a line) a minute
    return {
        f"Host: EC2 {host.instance_type}": symbols * EC2_HOUR[host.instance_type] * HOURS_PER_MONTH,
        "Host: disk, secret, key": symbols
        * (
            host.disk_gb * p["ebs_gp3_gb_month"]
            + host.secrets * p["secret_month"]
            + host.keys * p["kms_key_month"]
        ),
        # what an alarm reads, per host: its metrics and its alarms
        "Host: alarmed metrics, alarms": symbols
        * (
            len(PER_SYMBOL) * p["cloudwatch_custom_metric"] + sizes.host_alarms * p["cloudwatch_alarm_metric"]
        ),
        "Host: PutMetricData, EMF lines": symbols
        * samples
        * (
            p["cloudwatch_put_metric_thousand"] / 1000
            + usage.host_metric_line_bytes / 1024**3 * p["cloudwatch_logs_gb"]
        ),
    }


SIZES_SHOWN = (1, 10, 100)


def table(template: dict[str, Any] | None = None) -> str:
    """The README's table: USD per month by service for 1, 10 and 100 symbols."""
    sizes = Sizes.of(template or load_template())
    host = HostSizes.of(load_template(HOST_TEMPLATE))
    costs = {n: monthly(sizes, n) | host_monthly(host, sizes, n) for n in SIZES_SHOWN}
    header = "| USD / month | " + " | ".join(f"{n} symbol{'s' if n > 1 else ''}" for n in SIZES_SHOWN) + " |"
    lines = [header, "|---|" + "---:|" * len(SIZES_SHOWN)]
    for service in costs[1]:
        lines.append(f"| {service} | " + " | ".join(f"{costs[n][service]:.2f}" for n in SIZES_SHOWN) + " |")
    lines.append(
        "| **total** | " + " | ".join(f"**{sum(costs[n].values()):.2f}**" for n in SIZES_SHOWN) + " |"
    )
    return "\n".join(lines)


def main() -> None:
    print(table())


if __name__ == "__main__":
    main()
