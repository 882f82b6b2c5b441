"""template.yaml's host alarms and dashboard name only metrics the host publishes (their one definition is
trader_host/cloud/host_metrics.py), with the host's dimensions, and the alarms the runbook relies on exist."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra.host import HOST_TEMPLATE
from infra.template_yaml import load_template
from trader_host.assembly.cloud_wiring import SHIP_EARLY_BYTES
from trader_host.cloud.host_metrics import NAMESPACE, PER_SYMBOL, REGIME_AGE_ALARM_S, SERVICE, HostMetric
from trading_engine.config import CloudConfig

HOST_METRICS = {m.value for m in HostMetric}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def host_alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        k: r["Properties"]
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and str(r["Properties"].get("MetricName", "")).startswith("Host")
    }


def test_every_host_alarm_watches_a_published_metric_with_the_hosts_dimensions(
    template: dict[str, Any],
) -> None:
    alarms = host_alarms(template)
    # the per-symbol metrics (one custom metric per host each) are exactly the ones an alarm reads
    assert sorted(a["MetricName"] for a in alarms.values()) == sorted(m.value for m in PER_SYMBOL)
    for name, alarm in alarms.items():
        assert alarm["Namespace"] == NAMESPACE, name
        assert alarm["MetricName"] in HOST_METRICS, name
        assert alarm["Dimensions"] == [
            {"Name": "service", "Value": SERVICE},
            {"Name": "symbol", "Value": {"Ref": "HostSymbol"}},
        ], name
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
    # no other alarm in our namespace names a Host* metric that does not exist
    for r in template["Resources"].values():
        metric = str(r.get("Properties", {}).get("MetricName", ""))
        assert not metric.startswith("Host") or metric in HOST_METRICS, metric


def by_metric(template: dict[str, Any], metric: HostMetric) -> dict[str, Any]:
    found = [a for a in host_alarms(template).values() if a["MetricName"] == metric.value]
    assert len(found) == 1, metric
    return found[0]


def test_regime_older_than_ten_minutes_in_session(template: dict[str, Any]) -> None:
    alarm = by_metric(template, HostMetric.REGIME_AGE)
    assert REGIME_AGE_ALARM_S == 600
    assert alarm["Threshold"] == REGIME_AGE_ALARM_S and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Statistic"] == "Maximum"
    # outside the session the host sends no age: no data is not a stale regime
    assert alarm["TreatMissingData"] == "notBreaching"


def test_a_host_that_stops_reporting_breaches(template: dict[str, Any]) -> None:
    alarm = by_metric(template, HostMetric.HEARTBEAT)
    assert alarm["TreatMissingData"] == "breaching"
    assert alarm["ComparisonOperator"] == "LessThanThreshold" and alarm["Threshold"] == 1
    assert alarm["Period"] * alarm["EvaluationPeriods"] <= 600


def test_the_backlog_alarms_fire_when_the_backlog_does_not_drain(template: dict[str, Any]) -> None:
    bars = by_metric(template, HostMetric.BAR_BACKLOG)
    journal = by_metric(template, HostMetric.JOURNAL_BACKLOG)
    for alarm in (bars, journal):
        # the smallest backlog of each minute, for several minutes: it stayed, it was not a passing batch
        assert alarm["Statistic"] == "Minimum" and alarm["EvaluationPeriods"] >= 3
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert bars["Threshold"] == CloudConfig().publish_batch_size  # a whole batch that was not sent
    assert journal["Threshold"] == SHIP_EARLY_BYTES  # the size that ships at once, still waiting


def test_the_dashboard_shows_every_host_metric_and_no_other(template: dict[str, Any]) -> None:
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    rows = [row for w in widgets for row in w["properties"].get("metrics", [])]
    shown = {row[1] for row in rows if row[0] == NAMESPACE and str(row[1]).startswith("Host")}
    assert shown == HOST_METRICS
    for row in rows:
        if isinstance(row[0], str) and str(row[1]).startswith("Host"):
            dims = [d for d in row[2:] if isinstance(d, str)]
            # the alarmed ones per symbol (the host the alarms watch); the others, EMF, for the whole fleet
            expected = ["service", SERVICE, "symbol", "x"] if row[1] in PER_SYMBOL else ["service", SERVICE]
            assert dims == expected, row


def test_the_dashboards_host_table_reads_the_host_stacks_log_group(template: dict[str, Any]) -> None:
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    group = load_template(HOST_TEMPLATE)["Resources"]["HostLogGroup"]["Properties"]["LogGroupName"]["Fn::Sub"]
    assert f"SOURCE '{group}'" in body
