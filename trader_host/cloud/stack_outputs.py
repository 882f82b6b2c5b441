"""CloudNames: the stack's resource names the host talks to, from its outputs or from `[cloud]`.

`--stack-outputs` takes either a JSON file (what `python -m devkit.local_cloud status` prints: its `outputs`,
`parameters` and `endpoint`; or a plain {OutputKey: value} object) or the name of a deployed stack, whose
outputs and parameters are read with boto3. Whatever is not named there comes from the config's `[cloud]`
section. The `Symbols` parameter says which symbols the stack serves (a host trading another is refused).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trading_engine.config import CloudConfig, ConfigError

STACK_NAME = re.compile(r"[A-Za-z][-A-Za-z0-9]{0,127}")  # CloudFormation's rule for a stack name
# Stack output -> CloudConfig field
OUTPUT_FIELDS = {
    "BarStreamName": "bar_stream",
    "RegimeTableName": "regime_table",
    "FillsDeliveryStreamName": "fills_stream",
    "RoundTripsDeliveryStreamName": "round_trips_stream",
    "OrdersDeliveryStreamName": "orders_stream",
    "RiskEventsDeliveryStreamName": "risk_events_stream",
    "KillSwitchParameterName": "kill_switch_parameter",
    "StrategyConfigParameterName": "strategy_config_parameter",
    "ModelPointerParameterName": "model_pointer_parameter",
}


@dataclass(frozen=True, slots=True)
class CloudNames:
    bar_stream: str
    regime_table: str
    fills_stream: str
    round_trips_stream: str
    orders_stream: str
    risk_events_stream: str
    kill_switch_parameter: str
    strategy_config_parameter: str
    model_pointer_parameter: str
    endpoint: str  # "" = AWS itself (or whatever AWS_ENDPOINT_URL says)
    symbols: tuple[str, ...] = ()  # what the stack serves (its `Symbols` parameter); () = not said
    # A local endpoint's URL, region and dummy credentials, as AWS variables (its state file carries them);
    # the host passes them to its clients (`AwsAccess.of`), never to the environment.
    environment: dict[str, str] = field(default_factory=dict)

    def refusal(self, symbol: str) -> str | None:
        """Why a host trading `symbol` cannot use this stack, or None."""
        if not self.symbols or symbol in self.symbols:
            return None
        served = ",".join(self.symbols)
        return (
            f"the stack serves {served}, not {symbol}: its bars would be refused and no regime decided; "
            f"deploy it with --parameter-overrides Symbols={served},{symbol}"
        )

    def describe(self) -> str:
        where = self.endpoint or os.environ.get("AWS_ENDPOINT_URL", "") or "AWS"
        return (
            f"{where}: bars -> {self.bar_stream}, regime <- {self.regime_table}, "
            f"fills -> {self.fills_stream}, round trips -> {self.round_trips_stream}, "
            f"orders -> {self.orders_stream}, risk events -> {self.risk_events_stream}, "
            f"kill switch {self.kill_switch_parameter}"
        )

    def journal_streams(self) -> dict[str, str]:
        """The Firehose stream of each kind of journal record (JournalShipper's `streams`)."""
        return {
            "fill": self.fills_stream,
            "round_trip": self.round_trips_stream,
            "order": self.orders_stream,
            "risk_event": self.risk_events_stream,
        }


@dataclass(frozen=True, slots=True)
class StackDescription:
    """What `--stack-outputs` (or `--stack`) names: outputs, parameters, a local endpoint's variables."""

    outputs: dict[str, str]
    parameters: dict[str, str]
    endpoint: str = ""
    environment: dict[str, str] = field(default_factory=dict)


def describe_stack(
    stack_outputs: str, cloudformation: Any = None, flag: str = "--stack-outputs"
) -> StackDescription:
    """A state file (the local cloud's, or {OutputKey: value}) or a deployed stack's name, read."""
    path = Path(stack_outputs)
    if not path.is_file():
        if not STACK_NAME.fullmatch(stack_outputs):  # a mistyped path must not reach for AWS
            raise ConfigError(
                f"{flag} {stack_outputs}: no such file (a stack name has only letters, digits and -)"
            )
        return StackDescription(*_deployed(stack_outputs, cloudformation, flag))
    try:
        doc = json.loads(path.read_text())
    except ValueError as exc:
        raise ConfigError(f"{flag} {path}: not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{flag} {path}: expected a JSON object")
    endpoint = str(doc.get("endpoint", ""))
    environment = {"AWS_ENDPOINT_URL": endpoint, **_local_variables(doc)} if endpoint else {}
    outputs = {str(k): str(v) for k, v in dict(doc.get("outputs", doc)).items()}
    parameters = {str(k): str(v) for k, v in dict(doc.get("parameters", {})).items()}
    return StackDescription(outputs, parameters, endpoint, environment)


def cloud_names(config: CloudConfig, stack_outputs: str | None, cloudformation: Any = None) -> CloudNames:
    """Names from `stack_outputs` (a file or a stack name), the rest from `config`."""
    stack = describe_stack(stack_outputs, cloudformation) if stack_outputs else StackDescription({}, {})
    names = {f: getattr(config, f) for f in OUTPUT_FIELDS.values()}
    names.update({OUTPUT_FIELDS[k]: v for k, v in stack.outputs.items() if k in OUTPUT_FIELDS})
    symbols = served_symbols(stack.parameters)
    return CloudNames(endpoint=stack.endpoint, symbols=symbols, environment=stack.environment, **names)


def served_symbols(parameters: dict[str, str]) -> tuple[str, ...]:
    """The symbols a stack serves, from its `Symbols` parameter; () when it does not say."""
    return tuple(s.strip() for s in parameters.get("Symbols", "").split(",") if s.strip())


def _local_variables(doc: dict[str, Any]) -> dict[str, str]:
    """A local endpoint's region and dummy credentials (the file's `region` and `credentials`)."""
    out = {str(k): str(v) for k, v in dict(doc.get("credentials", {})).items()}
    if doc.get("region"):
        out.update(AWS_REGION=str(doc["region"]), AWS_DEFAULT_REGION=str(doc["region"]))
    return out


def _deployed(stack: str, cloudformation: Any, flag: str) -> tuple[dict[str, str], dict[str, str]]:
    """A deployed stack's outputs and parameters."""
    from botocore.exceptions import BotoCoreError, ClientError

    from trader_host.cloud.aws import client, missing_setup

    if cloudformation is None and (missing := missing_setup()):
        raise ConfigError(f"{flag} {stack!r} is read from AWS, and there is {missing}")
    cfn = cloudformation or client("cloudformation")
    try:
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    except (BotoCoreError, ClientError) as exc:
        raise ConfigError(f"{flag} {stack!r}: neither a file nor a readable stack ({exc})") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])}
    return outputs, parameters
