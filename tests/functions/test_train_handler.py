"""The train function on the local endpoint: archived bars in, a versioned model out, promotion by score."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import boto3
import pytest

from devkit.local_cloud.handlers import BoundFunction
from devkit.local_cloud.stack import LocalStack
from functions.train import app
from regime.contracts.evidence import Evidence
from regime.inference import RegimeModel
from regime.synthetic import synthetic_days
from regime.training import TrainConfig
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
    event.update({"symbols": ["TRN"], "days": 2, "holdout_days": 1, "config": SMALL}, **fields)
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


def s3_json(stack: LocalStack, key: str) -> dict[str, Any]:
    body = boto3.client("s3").get_object(Bucket=stack.physical["ModelsBucket"], Key=key)["Body"].read()
    parsed: dict[str, Any] = json.loads(body)
    return parsed


def test_challenger_and_incumbent_are_scored_on_the_same_held_out_bars_and_recorded(
    local_stack: LocalStack, functions: dict[str, BoundFunction], archived: str
) -> None:
    fn = functions["TrainFunction"]
    set_pointer(local_stack, {})
    first = fn.invoke(train_event())["results"]["TRN"]
    challenger = first["scores"]["challenger"]
    assert set(first["scores"]) == {"challenger"}  # no incumbent yet
    assert challenger["trend_auc"] > 0.5 and challenger["range_auc"] > 0.5  # synthetic regimes are learnable
    assert first["promoted"] and "no incumbent" in first["reason"]
    assert challenger["samples"] > 50 and challenger["round_trips"] >= 0
    entry = pointer(local_stack)["TRN"]
    assert entry["key"] == first["key"] == f"models/TRN/ensemble-{first['version']}.onnx"
    assert entry["version"] == first["version"] and entry["scores"]["range_auc"] == challenger["range_auc"]
    # Recorded in the model's own metadata, in its report, and in the symbol's promotion history.
    body = boto3.client("s3").get_object(Bucket=local_stack.physical["ModelsBucket"], Key=entry["key"])[
        "Body"
    ]
    model = RegimeModel.load(body.read())
    assert model.version == first["version"]
    assert (
        model.metadata.oos_scores["holdout"]["challenger"]["trend_log_loss"] == challenger["trend_log_loss"]
    )
    report = s3_json(local_stack, entry["key"].replace(".onnx", ".json"))
    assert report["promotion"]["promoted"] and report["metadata"]["oos_scores"]["holdout"]["rule"]
    history = s3_json(local_stack, f"models/TRN/promotions/{first['version']}.json")
    assert history["key"] == entry["key"] and history["challenger"] == challenger
    evidence = Evidence.from_json(json.dumps(history["evidence"]))  # the record `run --evidence` reads
    assert evidence.kind == "promotion" and evidence.model_version == first["version"]
    assert evidence.oos_net_usd == challenger["net_usd"] and evidence.deflated_sharpe is None

    # The same data and config again: the incumbent is scored beside it on the same bars.
    second = fn.invoke(train_event())["results"]["TRN"]
    incumbent = second["scores"]["incumbent"]
    assert incumbent["samples"] == second["scores"]["challenger"]["samples"]
    assert incumbent["trend_auc"] == pytest.approx(challenger["trend_auc"])
    second_history = s3_json(local_stack, f"models/TRN/promotions/{second['version']}.json")
    assert second_history["incumbent"]["version"] == first["version"]
    # The rule compared the two models' evidence records of the same held-out span (the same model twice:
    # equal net per trip, so not worse), and both records are kept beside the decision.
    theirs = Evidence.from_json(json.dumps(second_history["incumbent_evidence"]))
    ours = Evidence.from_json(json.dumps(second_history["evidence"]))
    assert theirs.model_version == first["version"] and theirs.test_span == ours.test_span
    assert theirs.oos_net_usd == incumbent["net_usd"]
    assert second["promoted"] and "evidence's net USD per round trip" in second["reason"]
    set_pointer(local_stack, {})


def test_a_forced_promotion_keeps_every_other_symbols_entry(
    local_stack: LocalStack, functions: dict[str, BoundFunction], archived: str
) -> None:
    other = {"key": "models/OTHER/x.onnx", "unknown_field": 1}
    set_pointer(local_stack, {"OTHER": other})
    forced = functions["TrainFunction"].invoke(train_event(force_promote=True))["results"]["TRN"]
    assert forced["promoted"] and forced["reason"] == "forced"
    after = pointer(local_stack)
    assert after["TRN"]["key"] == forced["key"] and after["OTHER"] == other
    set_pointer(local_stack, {})


def test_a_symbol_without_archive_is_reported_not_crashed(
    local_stack: LocalStack, functions: dict[str, BoundFunction]
) -> None:
    result = functions["TrainFunction"].invoke(train_event(symbols=["NOPE"]))["results"]["NOPE"]
    assert not result["promoted"] and "no archived bars" in result["reason"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"force_promote": "false"}, "force_promote: Input should be a valid boolean"),  # was bool("false")
        ({"symbols": "CL"}, "symbols: Input should be a valid array"),  # was ('C', 'L')
        ({"symbols": ["cl; drop"]}, "symbols.0: String should match pattern"),
        ({"days": 1000000}, "days: Input should be less than or equal to 366"),
        ({"days": 0}, "days: Input should be greater than or equal to 2"),
        ({"days": "28"}, "days: Input should be a valid integer"),
        ({"days": 3, "holdout_days": 3}, "holdout_days \\(3\\) must be fewer than days \\(3\\)"),
        ({"config": {"lr": 1}}, "config.lr: Extra inputs are not permitted"),
        ({"config": {"gbt_iterations": "10"}}, "config.gbt_iterations: Input should be a valid integer"),
        ({"end": "yesterday"}, "end: Input should be a valid date"),
        ({"surprise": True}, "surprise: Extra inputs are not permitted"),
    ],
)
def test_bad_events_are_refused_with_the_field_named(
    functions: dict[str, BoundFunction], fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(app.TrainEventError, match=message):
        functions["TrainFunction"].invoke(train_event(**fields))


def test_config_overrides_cover_every_scalar_field_of_train_config() -> None:
    scalar = {f.name for f in dataclasses.fields(TrainConfig)} - {"feature_spec", "label_spec"}
    assert set(app.ConfigOverrides.model_fields) == scalar


GOOD = {
    "trend_auc": 0.6,
    "range_auc": 0.62,
    "trend_log_loss": 0.65,
    "range_log_loss": 0.66,
    "net_ticks_per_trip": -1.0,
}


@pytest.mark.parametrize(
    ("challenger", "incumbent", "force", "expected", "why"),
    [
        (GOOD, None, False, True, "no incumbent"),
        (
            {**GOOD, "trend_auc": 0.5},
            None,
            False,
            False,
            "trend AUC 0.500 is no better than a constant guess",
        ),
        ({**GOOD, "range_auc": float("nan")}, None, False, False, "range AUC nan"),
        ({**GOOD, "range_auc": 0.45}, None, True, True, "forced"),
        (GOOD, GOOD, False, True, "not worse"),
        (GOOD, {**GOOD, "range_auc": 0.64}, False, False, "range AUC 0.620 below the incumbent's 0.640"),
        (GOOD, {**GOOD, "range_auc": 0.625}, False, True, "not worse"),  # inside the tolerance
        (
            GOOD,
            {**GOOD, "trend_log_loss": 0.6},
            False,
            False,
            "trend log loss 0.650 above the incumbent's 0.600",
        ),
        (GOOD, {**GOOD, "net_ticks_per_trip": 0.5}, False, False, "net -1.00 ticks per round trip below"),
    ],
)
def test_promotion_rule(
    challenger: dict[str, float], incumbent: dict[str, float] | None, force: bool, expected: bool, why: str
) -> None:
    promoted, reason = app.should_promote(challenger, incumbent, force)
    assert promoted is expected and why in reason


@pytest.mark.parametrize("stored", [b"not an onnx model", None], ids=["corrupt", "missing"])
def test_a_corrupt_or_missing_incumbent_cannot_defend_its_place(
    local_stack: LocalStack, functions: dict[str, BoundFunction], archived: str, stored: bytes | None
) -> None:
    key = "models/TRN/ensemble-broken.onnx"
    s3 = boto3.client("s3")
    if stored is None:
        s3.delete_object(Bucket=local_stack.physical["ModelsBucket"], Key=key)
    else:
        s3.put_object(Bucket=local_stack.physical["ModelsBucket"], Key=key, Body=stored)
    set_pointer(local_stack, {"TRN": {"key": key, "version": "broken"}})
    result = functions["TrainFunction"].invoke(train_event())["results"]["TRN"]
    assert set(result["scores"]) == {"challenger"} and "no incumbent" in result["reason"]
