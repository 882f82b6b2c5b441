"""Publish a trained ensemble to a stack: the models bucket, its promotion record, then the SSM pointer.

What the train function does when its rule promotes a challenger, for a model trained elsewhere (a laptop,
CI): the object `models/<symbol>/ensemble-<version>.onnx`, its report beside it, a line of promotion history
`models/<symbol>/promotions/<version>.json` saying it was published by hand, and last the symbol's pointer
entry (other symbols' entries kept as written), so that the regime function never points at a missing key.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from regime.contracts import ModelPointer, PointerEntry
from regime.contracts.model_pointer import PointerError
from regime.inference import RegimeModel
from trader_host.cloud.aws import AwsAccess, client

HAND_PUBLISHED = "published by hand (regime-trader publish-model): no holdout comparison was run"


@dataclass(frozen=True, slots=True)
class Published:
    symbol: str
    version: str
    key: str
    replaced: str  # the version the pointer held before, "" when none


def publish_model(
    model_path: Path,
    symbol: str,
    bucket: str,
    pointer_parameter: str,
    report: dict[str, Any] | None = None,
    access: AwsAccess | None = None,
) -> Published:
    """Upload `model_path` for `symbol` and point the symbol at it; `report`: its evaluation, if any;
    `access`: the endpoint and credentials to use (default: boto3's own resolution)."""
    make = client if access is None else access.client
    body = model_path.read_bytes()
    metadata = RegimeModel.load(body).metadata  # a file that is not an ensemble stops here, before any write
    version = metadata.version
    key = f"models/{symbol}/ensemble-{version}.onnx"
    now = datetime.now(UTC).isoformat()
    s3 = make("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    record = {"promoted": True, "rule": HAND_PUBLISHED, "decided_at": now, "challenger": metadata.oos_scores}
    full_report = {
        "metadata": json.loads(metadata.to_json()),
        "evaluation": report or {},
        "promotion": record,
    }
    s3.put_object(Bucket=bucket, Key=key.removesuffix(".onnx") + ".json", Body=_json(full_report))
    history = {"symbol": symbol, "version": version, "key": key, **record}
    s3.put_object(Bucket=bucket, Key=f"models/{symbol}/promotions/{version}.json", Body=_json(history))
    ssm = make("ssm")
    try:
        current = ModelPointer.from_json(ssm.get_parameter(Name=pointer_parameter)["Parameter"]["Value"])
    except (ssm.exceptions.ParameterNotFound, ValueError):
        current = ModelPointer()
    try:
        before = current.entry(symbol)
    except PointerError:
        before = None  # a broken entry: replaced by a valid one
    scores = {k: float(v) for k, v in metadata.oos_scores.items() if isinstance(v, int | float)}
    entry = PointerEntry(key=key, version=version, promoted_at=now, scores=_finite(scores))
    ssm.put_parameter(
        Name=pointer_parameter,
        Value=current.with_entry(symbol, entry).to_json(),
        Type="String",
        Overwrite=True,
    )
    return Published(symbol, version, key, before.version if before else "")


def _finite(scores: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in scores.items() if math.isfinite(v)}


def _json(value: Any) -> bytes:
    return json.dumps(value, default=str).encode()
