"""The train function on the local endpoint: archived bars in, a versioned model out, promotion by score."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from functions.train import app
from infra.local_cloud.handlers import BoundFunction
from infra.local_cloud.stack import LocalStack
from regime.inference import RegimeModel
from regime.synthetic import synthetic_days
from tests.functions.endpoint_faults import EVENTS

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SMALL = {"mlp_max_iter": 30, "gbt_iterations": 10, "svm_max_samples": 200, "folds": 2}


@pytest.fixture(scope="module")
def archived(local_stack: LocalStack) -> str:
    """Two synthetic days of TRN bars archived through the bar archive's Firehose stream (as JSON lines)."""
    bars = synthetic_days(2, seed=5, symbol="TRN").bars.to_bars()
    firehose = boto3.client("firehose")
    stream = local_stack.physical["BarArchiveDeliveryStream"]
    for start in range(0, len(bars), 500):
        chunk = bars[start : start + 500]
        firehose.put_record_batch(
            DeliveryStreamName=stream, Records=[{"Data": (b.to_json() + "\n").encode()} for b in chunk]
        )
    return "TRN"


def train_event(**fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "train.json").read_text())
    event.update({"symbols": ["TRN"], "days": 1, "config": SMALL}, **fields)
    return event


def pointer(stack: LocalStack) -> dict[str, Any]:
    value = boto3.client("ssm").get_parameter(Name=stack.physical["ModelPointerParameter"])["Parameter"][
        "Value"
    ]
    parsed: dict[str, Any] = json.loads(value)
    return parsed


def set_pointer(stack: LocalStack, value: dict[str, Any]) -> None:
    boto3.client("ssm").put_parameter(
        Name=stack.physical["ModelPointerParameter"], Value=json.dumps(value), Overwrite=True
    )


def test_trains_publishes_and_promotes_only_when_not_worse(
    local_stack: LocalStack, functions: dict[str, BoundFunction], archived: str
) -> None:
    fn = functions["TrainFunction"]
    set_pointer(local_stack, {})
    first = fn.invoke(train_event())["results"]["TRN"]
    assert first["promoted"] and first["current_score"] is None
    assert 0.0 <= first["score"] <= 1.0 and first["bars"] > 2000
    entry = pointer(local_stack)["TRN"]
    assert entry["key"] == first["key"] == f"models/TRN/ensemble-{first['version']}.onnx"
    s3 = boto3.client("s3")
    bucket = local_stack.physical["ModelsBucket"]
    model = RegimeModel.load(s3.get_object(Bucket=bucket, Key=entry["key"])["Body"].read())
    assert model.version == first["version"]
    report = json.loads(
        s3.get_object(Bucket=bucket, Key=entry["key"].replace(".onnx", ".json"))["Body"].read()
    )
    assert report["metadata"]["version"] == first["version"] and "vote" in report["evaluation"]

    # A current model scoring better is kept; the new one is still published for the record.
    set_pointer(local_stack, {"TRN": {**entry, "score": 2.0}, "OTHER": {"key": "models/OTHER/x.onnx"}})
    second = fn.invoke(train_event())["results"]["TRN"]
    assert not second["promoted"] and second["current_score"] == 2.0
    assert pointer(local_stack)["TRN"]["score"] == 2.0
    assert s3.head_object(Bucket=bucket, Key=second["key"])

    forced = fn.invoke(train_event(force_promote=True))["results"]["TRN"]
    assert forced["promoted"]
    after = pointer(local_stack)
    assert after["TRN"]["key"] == forced["key"] and after["OTHER"] == {"key": "models/OTHER/x.onnx"}
    set_pointer(local_stack, {})


def test_a_symbol_without_archive_is_reported_not_crashed(
    local_stack: LocalStack, functions: dict[str, BoundFunction]
) -> None:
    result = functions["TrainFunction"].invoke(train_event(symbols=["NOPE"]))["results"]["NOPE"]
    assert not result["promoted"] and "no archived bars" in result["reason"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"days": 0}, "days: expected a positive integer"),
        ({"config": {"lr": 1}}, "config: unknown field"),
        ({"end": "yesterday"}, "end: expected YYYY-MM-DD"),
    ],
)
def test_bad_events_are_refused_with_the_field_named(
    functions: dict[str, BoundFunction], fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(app.TrainEventError, match=message):
        functions["TrainFunction"].invoke(train_event(**fields))


@pytest.mark.parametrize(
    ("score", "current", "force", "expected"),
    [
        (0.5, None, False, True),
        (0.5, {"score": 0.6}, False, False),
        (0.6, {"score": 0.6}, False, True),
        (float("nan"), {"score": 0.4}, False, False),
        (0.1, {"score": 0.9}, True, True),
        (0.5, {}, False, True),
        (0.5, {"key": "k"}, False, True),
    ],
)
def test_promotion_rule(score: float, current: dict[str, Any] | None, force: bool, expected: bool) -> None:
    assert app.should_promote(score, current, force) is expected
