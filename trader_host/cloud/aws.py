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
