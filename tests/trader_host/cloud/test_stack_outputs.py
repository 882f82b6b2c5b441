"""The cloud's names: from a local-cloud state file, a plain outputs file, a deployed stack, or [cloud]."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from trader_host.cloud.stack_outputs import cloud_names
from trading_engine.config import CloudConfig, ConfigError

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
        "Parameters": {"Symbols": {"Type": "CommaDelimitedList", "Default": "CL,MCL"}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"BarStreamName": {"Value": "deployed-bars"}, "KillSwitchParameterName": {"Value": "/k"}},
    }
    # Set up with boto3's patient defaults: the host's 3-s read timeout made a slow create (a loaded machine)
    # retry into AlreadyExists.
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(StackName="regime-trader-dev", TemplateBody=json.dumps(template))
    names = cloud_names(CloudConfig(), "regime-trader-dev")
    assert (names.bar_stream, names.kill_switch_parameter) == ("deployed-bars", "/k")
    assert names.symbols == ("CL", "MCL")  # from the stack's parameters
    with pytest.raises(ConfigError, match="'no-such-stack': neither a file nor a readable stack"):
        cloud_names(CloudConfig(), "no-such-stack")


def test_every_journal_kind_gets_its_stream_from_the_outputs_or_the_config(tmp_path: Path) -> None:
    from infra.template_yaml import load_template
    from trader_host.cloud.stack_outputs import OUTPUT_FIELDS
    from trading_engine.journal.trade_journal import KINDS

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


def test_the_stack_says_which_symbols_it_serves(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"outputs": {}, "parameters": {"Symbols": "CL, MCL"}}))
    names = cloud_names(CloudConfig(), str(state))
    assert names.symbols == ("CL", "MCL") and names.refusal("MCL") is None
    assert names.refusal("MES") == (
        "the stack serves CL,MCL, not MES: its bars would be refused and no regime decided; "
        "deploy it with --parameter-overrides Symbols=CL,MCL,MES"
    )
    assert cloud_names(CloudConfig(), None).refusal("MES") is None  # a stack that does not say: no check
