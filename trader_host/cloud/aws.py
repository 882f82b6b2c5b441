"""boto3 clients with the host's timeouts, and `AwsAccess`: where the host's clients go and as whom.

The module's `client`/`resource` use boto3's own resolution (AWS_ENDPOINT_URL, the region and credentials of
the environment or profile). The live host builds its clients from an `AwsAccess` instead, which carries a
local endpoint's URL, region and dummy credentials explicitly: nothing is written to `os.environ`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
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
    return _missing(boto3.session.Session())


@dataclass(frozen=True)
class AwsAccess:
    """The endpoint, region and credentials the host's clients use, passed to boto3 explicitly.

    A field left None is resolved by boto3 as usual (the environment, the profile, the instance role).
    """

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None

    @classmethod
    def of(cls, variables: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> AwsAccess:
        """From a local endpoint's AWS variables (its state file's endpoint, region and dummy credentials).

        A variable the environment already sets keeps the environment's value: an operator's export wins over
        the file, as it did when the file's variables were only the environment's defaults. `environ` is
        read, never written.
        """
        merged = {**variables, **{k: environ[k] for k in variables if k in environ}}
        return cls(
            endpoint_url=merged.get("AWS_ENDPOINT_URL") or None,
            region=merged.get("AWS_DEFAULT_REGION") or merged.get("AWS_REGION") or None,
            access_key_id=merged.get("AWS_ACCESS_KEY_ID") or None,
            secret_access_key=merged.get("AWS_SECRET_ACCESS_KEY") or None,
            session_token=merged.get("AWS_SESSION_TOKEN") or None,
        )

    @cached_property
    def session(self) -> boto3.session.Session:
        """One boto3 session for every client of the host (credentials resolved once)."""
        return boto3.session.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token,
            region_name=self.region,
        )

    def client(self, service: str) -> Any:
        """A client for `service` on this endpoint, with the host's timeouts."""
        return self.session.client(  # type: ignore[call-overload]
            service, endpoint_url=self.endpoint_for(service), config=HOST_BOTO_CONFIG
        )

    def resource(self, service: str) -> Any:
        """A resource (DynamoDB tables) on this endpoint, with the same timeouts."""
        return self.session.resource(  # type: ignore[call-overload]
            service, endpoint_url=self.endpoint_for(service), config=HOST_BOTO_CONFIG
        )

    def endpoint_for(self, service: str, environ: Mapping[str, str] = os.environ) -> str | None:
        """The endpoint a `service` client is given: this access's, unless the environment names one for that
        service (`AWS_ENDPOINT_URL_<SERVICE>`), which boto3 then resolves itself, as it prefers a service's
        own variable to AWS_ENDPOINT_URL."""
        if f"AWS_ENDPOINT_URL_{service.upper().replace('-', '_')}" in environ:
            return None
        return self.endpoint_url

    def missing_setup(self) -> str | None:
        """`missing_setup` of this access: what boto3 still lacks to reach the endpoint, or None."""
        return _missing(self.session)


def _missing(session: boto3.session.Session) -> str | None:
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
