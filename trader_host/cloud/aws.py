"""boto3 clients with the host's timeouts; the endpoint comes from AWS_ENDPOINT_URL when it is set."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

# Short timeouts and few retries: a slow cloud must never hold the trading loop for long.
HOST_BOTO_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2, "mode": "standard"})


def client(service: str) -> Any:
    """A boto3 client for `service` with the host's timeouts (typed Any: not every service has stubs here)."""
    return boto3.client(service, config=HOST_BOTO_CONFIG)  # type: ignore[call-overload]


def resource(service: str) -> Any:
    """A boto3 resource (DynamoDB tables) with the same timeouts."""
    return boto3.resource(service, config=HOST_BOTO_CONFIG)  # type: ignore[call-overload]


def missing_setup() -> str | None:
    """What the AWS SDK lacks to reach AWS (a region, credentials), said with how to set it; None when ready.

    Without it boto3 fails later with `You must specify a region` or `Unable to locate credentials`.
    """
    session = boto3.session.Session()
    if not session.region_name:
        return (
            "no AWS region: set AWS_DEFAULT_REGION (e.g. `export AWS_DEFAULT_REGION=us-east-1`) or a "
            "region in ~/.aws/config; for the local cloud, pass its state file (build/local-cloud/state.json)"
        )
    if session.get_credentials() is None:
        return (
            "no AWS credentials: set AWS_PROFILE (after `aws configure` or `aws sso login`), or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; on EC2 the instance role provides them"
        )
    return None
