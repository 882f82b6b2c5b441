"""train: read the bar archive, train and evaluate walk-forward, publish ensemble.onnx, promote if not worse.

Per symbol: the archived bars of the last `days` days (Firehose writes bars/YYYY/MM/DD/HH/, one JSON bar per
line), the core's `train_ensemble` (walk-forward evaluation, then a fit on everything), a versioned
models/<symbol>/ensemble-<version>.onnx beside its metadata and evaluation (.json), and promotion: the SSM
pointer moves to the new model only if its out-of-sample score is not worse than the current model's.

Event (all optional): {"symbols": ["CL"], "days": 28, "end": "2026-02-27", "force_promote": false,
"config": {"gbt_iterations": 150, ...}}. Container image function: scikit-learn lives only here.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config

from regime.bar_series import BarSeries
from regime.contracts import Bar, BarError
from regime.training import TrainConfig, TrainedEnsemble, train_ensemble

SERVICE = "train"
logger = Logger(service=SERVICE)
metrics = Metrics(namespace="RegimeTrader", service=SERVICE)
_SDK_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 5})
DEFAULT_DAYS = 28


class TrainEventError(ValueError):
    """The train event asks for something impossible (the message names the field)."""


@dataclass(frozen=True, slots=True)
class Settings:
    symbols: tuple[str, ...]
    data_lake_bucket: str
    models_bucket: str
    pointer_parameter: str

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            tuple(s.strip() for s in env["SYMBOLS"].split(",") if s.strip()),
            env["DATA_LAKE_BUCKET"],
            env["MODELS_BUCKET"],
            env["MODEL_POINTER_PARAMETER"],
        )


@dataclass(frozen=True, slots=True)
class Request:
    symbols: tuple[str, ...]
    days: int
    end: date
    force_promote: bool
    config: TrainConfig

    @classmethod
    def from_event(cls, event: dict[str, Any], settings: Settings) -> Request:
        symbols = tuple(event.get("symbols") or settings.symbols)
        days = event.get("days", DEFAULT_DAYS)
        if not isinstance(days, int) or days < 1:
            raise TrainEventError(f"days: expected a positive integer, got {days!r}")
        try:
            end = date.fromisoformat(event["end"]) if event.get("end") else datetime.now(UTC).date()
        except ValueError as exc:
            raise TrainEventError(f"end: expected YYYY-MM-DD, got {event.get('end')!r}") from exc
        overrides = event.get("config") or {}
        scalar = {
            f.name for f in dataclasses.fields(TrainConfig) if f.name not in ("feature_spec", "label_spec")
        }
        unknown = set(overrides) - scalar
        if unknown:
            raise TrainEventError(f"config: unknown field(s) {sorted(unknown)}; allowed: {sorted(scalar)}")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
        config = TrainConfig(**values)
        return cls(symbols, days, end, bool(event.get("force_promote", False)), config)


@cache
def _client(service: str) -> Any:
    return boto3.client(service, config=_SDK_CONFIG)  # type: ignore[call-overload]


def archived_bars(bucket: str, symbol: str, first: date, last: date) -> tuple[list[Bar], int]:
    """Bars of `symbol` archived between two dates (inclusive), and how many lines were unreadable."""
    s3 = _client("s3")
    bars: list[Bar] = []
    bad = 0
    day = first
    while day <= last:
        prefix = f"bars/{day:%Y/%m/%d}/"
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode("utf-8", "replace")
                for line in body.splitlines():
                    if not line.strip():
                        continue
                    try:
                        bar = Bar.from_json(line)
                    except BarError:
                        bad += 1
                        continue
                    if bar.symbol == symbol:
                        bars.append(bar)
        day += timedelta(days=1)
    return bars, bad


def read_pointer(name: str) -> dict[str, Any]:
    value = _client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    pointer = json.loads(value)
    if not isinstance(pointer, dict):
        raise ValueError(f"{name}: the model pointer must be a JSON object, got {value!r}")
    return pointer


def should_promote(new_score: float, current: dict[str, Any] | None, force: bool) -> bool:
    """Promote when forced, when there is no current model, or when the new score is not worse."""
    if force or not current:
        return True
    if math.isnan(new_score):
        return False
    current_score = float(current.get("score", float("nan")))
    return math.isnan(current_score) or new_score >= current_score


def publish(trained: TrainedEnsemble, symbol: str, bucket: str) -> str:
    """Write the model and its report; returns the model's key."""
    key = f"models/{symbol}/ensemble-{trained.metadata.version}.onnx"
    s3 = _client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=trained.onnx_bytes)
    report = {"metadata": json.loads(trained.metadata.to_json()), "evaluation": trained.evaluation}
    s3.put_object(
        Bucket=bucket, Key=key.removesuffix(".onnx") + ".json", Body=json.dumps(report, default=str).encode()
    )
    return key


def train_symbol(
    symbol: str, request: Request, settings: Settings, pointer: dict[str, Any]
) -> dict[str, Any]:
    """Train, publish and maybe promote one symbol; updates `pointer` in place when promoted."""
    first = request.end - timedelta(days=request.days - 1)
    bars, bad = archived_bars(settings.data_lake_bucket, symbol, first, request.end)
    if bad:
        logger.warning("unreadable archived lines", extra={"symbol": symbol, "lines": bad})
    if not bars:
        return {"promoted": False, "reason": f"no archived bars between {first} and {request.end}"}
    try:
        trained = train_ensemble(
            BarSeries.from_bars(bars),
            request.config,
            source={
                "archive": f"s3://{settings.data_lake_bucket}/bars/",
                "first_day": str(first),
                "last_day": str(request.end),
            },
        )
    except ValueError as exc:  # too few or too fragmented bars for the feature window
        return {"promoted": False, "bars": len(bars), "reason": str(exc)}
    key = publish(trained, symbol, settings.models_bucket)
    score = trained.metadata.headline_score
    current = pointer.get(symbol)
    promoted = should_promote(score, current, request.force_promote)
    if promoted:
        pointer[symbol] = {
            "key": key,
            "version": trained.metadata.version,
            "score": score,
            "promoted_at": datetime.now(UTC).isoformat(),
        }
    metrics.add_metric(
        name="OutOfSampleScore", unit=MetricUnit.NoUnit, value=0.0 if math.isnan(score) else score
    )
    return {
        "promoted": promoted,
        "key": key,
        "version": trained.metadata.version,
        "score": score,
        "current_score": (current or {}).get("score"),
        "bars": len(bars),
        "baseline": trained.metadata.oos_scores.get("vote_baseline"),
    }


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Train every requested symbol; write the pointer once, after all of them."""
    metrics.add_metric(name="TrainRequested", unit=MetricUnit.Count, value=1)
    settings = Settings.from_env()
    request = Request.from_event(event or {}, settings)
    pointer = read_pointer(settings.pointer_parameter)
    results = {symbol: train_symbol(symbol, request, settings, pointer) for symbol in request.symbols}
    if any(r["promoted"] for r in results.values()):
        _client("ssm").put_parameter(
            Name=settings.pointer_parameter,
            Value=json.dumps(pointer, sort_keys=True),
            Type="String",
            Overwrite=True,
        )
    for symbol, result in results.items():
        logger.info(
            "trained", extra={"symbol": symbol, **{k: v for k, v in result.items() if k != "baseline"}}
        )
    metrics.add_metric(
        name="ModelsPromoted", unit=MetricUnit.Count, value=sum(r["promoted"] for r in results.values())
    )
    return {"results": results}
