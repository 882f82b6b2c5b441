"""The host's composition root reaches the cloud its state file names without touching the environment.

The endpoint, region and dummy credentials of `--stack-outputs` travel in an `AwsAccess` handed to each
boto3 client: a shell with no AWS variable at all reaches the local endpoint, and `os.environ` is the same
after `assemble` as before it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import boto3
import pytest

from trader_host.assembly.live_host import assemble
from trader_host.cli import build_parser
from trader_host.cloud.aws import AwsAccess

AWS_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_PROFILE",
)
LOCAL = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def test_assembling_the_host_leaves_the_environment_unchanged(
    moto_reset: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parameter = "/regime-trader/test/strategy-config"
    ssm = boto3.client("ssm", endpoint_url=moto_reset, region_name="us-east-1")
    ssm.put_parameter(Name=parameter, Value=json.dumps({"z_thresh": 2.5}), Type="String")
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(
            {
                "endpoint": moto_reset,
                "region": "us-east-1",
                "credentials": LOCAL,
                "outputs": {"StrategyConfigParameterName": parameter},
            }
        )
    )
    for name in AWS_VARIABLES:  # a shell with no AWS set-up: only the file says where the cloud is
        monkeypatch.delenv(name, raising=False)
    before = dict(os.environ)
    argv = ["run", "--stack-outputs", str(state), "--regime", "trend", "--synthetic-days", "1"]
    host = assemble(build_parser().parse_args([*argv, "--state-dir", str(tmp_path / "host")]))
    try:
        assert dict(os.environ) == before
        assert host.session.trader.config.strategy.z_thresh == 2.5  # the override read from the endpoint
        assert moto_reset in host.banner
    finally:
        host.close()


def test_the_access_takes_the_files_variables_under_the_environments_own() -> None:
    environ = {"AWS_DEFAULT_REGION": "eu-west-1"}
    variables = {"AWS_ENDPOINT_URL": "http://127.0.0.1:5", "AWS_DEFAULT_REGION": "us-east-1", **LOCAL}
    access = AwsAccess.of(variables, environ)
    assert access == AwsAccess("http://127.0.0.1:5", "eu-west-1", "testing", "testing")
    assert environ == {"AWS_DEFAULT_REGION": "eu-west-1"}  # read, never written
    assert access.client("ssm").meta.endpoint_url == "http://127.0.0.1:5"
    assert access.client("ssm").meta.region_name == "eu-west-1"


def test_an_access_without_a_region_says_how_to_set_one(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    missing = AwsAccess.of({}).missing_setup()
    assert missing is not None and missing.startswith("no AWS region: set AWS_DEFAULT_REGION")


def test_a_services_own_endpoint_variable_still_wins_over_the_files_endpoint() -> None:
    access = AwsAccess("http://127.0.0.1:5", "us-east-1", "testing", "testing")
    environ = {"AWS_ENDPOINT_URL_CLOUDWATCH": "http://127.0.0.1:9"}
    assert access.endpoint_for("cloudwatch", environ) is None  # boto3 resolves the service's own variable
    assert access.endpoint_for("kinesis", environ) == "http://127.0.0.1:5"
