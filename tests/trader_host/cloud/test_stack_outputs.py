"""The cloud's names: from a local-cloud state file, a plain outputs file, a deployed stack, or [cloud]."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trader_host.cloud.aws import client
from trader_host.cloud.stack_outputs import cloud_names
from trader_host.config import CloudConfig, ConfigError

pytestmark = pytest.mark.integration


def test_names_from_a_state_file_a_plain_file_or_the_config(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"endpoint": "http://x:1", "outputs": {"BarStreamName": "b1", "Other": "z"}}))
    names = cloud_names(CloudConfig(), str(state))
    assert (names.bar_stream, names.endpoint, names.regime_table) == ("b1", "http://x:1", "regime")
    plain = tmp_path / "outputs.json"
    plain.write_text(json.dumps({"RegimeTableName": "t1"}))
    assert cloud_names(CloudConfig(), str(plain)).regime_table == "t1"
    assert cloud_names(CloudConfig(fills_stream="f0"), None).fills_stream == "f0"
    plain.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="expected a JSON object"):
        cloud_names(CloudConfig(), str(plain))


def test_names_from_a_deployed_stack_read_with_boto3(moto_reset: str) -> None:
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"BarStreamName": {"Value": "deployed-bars"}, "KillSwitchParameterName": {"Value": "/k"}},
    }
    client("cloudformation").create_stack(StackName="regime-trader-dev", TemplateBody=json.dumps(template))
    names = cloud_names(CloudConfig(), "regime-trader-dev")
    assert (names.bar_stream, names.kill_switch_parameter) == ("deployed-bars", "/k")
    with pytest.raises(ConfigError, match="'no-such-stack': neither a file nor a readable stack"):
        cloud_names(CloudConfig(), "no-such-stack")


def test_every_journal_kind_gets_its_stream_from_the_outputs_or_the_config(tmp_path: Path) -> None:
    from infra.local_cloud.template_yaml import load_template
    from trader_host.cloud.stack_outputs import OUTPUT_FIELDS
    from trader_host.journal.trade_journal import KINDS

    assert set(OUTPUT_FIELDS) <= set(load_template()["Outputs"])  # the template names every one
    plain = tmp_path / "outputs.json"
    plain.write_text(json.dumps({"OrdersDeliveryStreamName": "o1", "RiskEventsDeliveryStreamName": "r1"}))
    streams = cloud_names(CloudConfig(), str(plain)).journal_streams()
    assert streams == {
        "fill": "regime-trader-fills",
        "round_trip": "regime-trader-round-trips",
        "order": "o1",
        "risk_event": "r1",
    }
    assert tuple(streams) == KINDS
