"""One boto3 client per service for every function, and the one Parameters provider of the model pointer."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities.parameters import SSMProvider


@cache
def client(service: str) -> Any:
    """The process's client for `service` (made once: making a client is not thread-safe)."""
    # No Config object: retry mode, attempts and timeouts (the SDK's defaults: 60 s read) come from
    # AWS_DEFAULTS_MODE / AWS_MAX_ATTEMPTS, set once in the template's Globals for every function (and for
    # Powertools' own clients).
    return boto3.client(service)  # type: ignore[call-overload]


@cache
def pointer_provider() -> SSMProvider:
    """The one Parameters provider that reads the model pointer (regime caches it, train forces a fetch)."""
    return SSMProvider(boto3_client=client("ssm"))
