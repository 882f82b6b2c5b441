"""The strategy overrides an operator keeps in SSM (JSON, `{}` by default); the config file holds every
default."""

from __future__ import annotations

import json
import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from trading_engine.config import ConfigError, HostConfig, with_strategy_overrides

log = logging.getLogger(__name__)


def strategy_from_ssm(config: HostConfig, ssm: Any, parameter: str) -> HostConfig:
    """`config` with the overrides of the SSM `parameter` (read with the `ssm` client); unchanged when the
    parameter does not exist. Unreadable or not JSON: a ConfigError naming the parameter."""
    try:
        value = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return config
        raise ConfigError(f"strategy config {parameter}: unreadable ({exc})") from None
    except BotoCoreError as exc:
        raise ConfigError(f"strategy config {parameter}: unreadable ({exc})") from None
    try:
        overrides = json.loads(value)
    except ValueError as exc:
        raise ConfigError(f"strategy config {parameter}: not JSON ({exc})") from None
    if overrides:
        log.info("strategy overrides from %s: %s", parameter, overrides)
    return with_strategy_overrides(config, overrides, parameter)
