"""`invoke --stack build/local-cloud/state.json`: the sample events chained on one running local cloud."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest

from devkit.local_cloud.__main__ import main
from devkit.local_cloud.cloud import LocalCloud
from devkit.local_cloud.sample_events import BOUNDARY, sample_files, window_bars, window_minutes
from regime_aws.dynamodb_items import from_wire

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[3] / "events"


@pytest.fixture
def running(moto_reset: str, tmp_path: Path) -> tuple[LocalCloud, Path]:
    """A local cloud deployed as `up` deploys it, and the state file `up` writes for it."""
    cloud = LocalCloud.deploy("regime-trader-chain", include=set())
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps({"pid": os.getpid(), "stack": "regime-trader-chain", **cloud.stack.described(moto_reset)})
    )
    return cloud, state


def _invoke(
    state: Path, function: str, event: str, layer_model: Path, capsys: pytest.CaptureFixture[str]
) -> Any:
    code = main(
        [
            "invoke",
            "--stack",
            str(state),
            function,
            "-e",
            str(EVENTS / event),
            "--layer-model",
            str(layer_model),
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err[-2000:]
    return json.loads(out.out.strip().splitlines()[-1])


def test_ingest_then_regime_on_the_running_cloud_decides_on_the_sample_bars(
    running: tuple[LocalCloud, Path], layer_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud, state = running
    env = cloud.functions["RegimeFunction"].env

    assert _invoke(state, "IngestBarsFunction", "ingest_bars.json", layer_model, capsys) == {
        "batchItemFailures": []
    }
    response = _invoke(state, "RegimeFunction", "regime.json", layer_model, capsys)

    decision = response["decisions"]["CL"]
    assert response["boundary"] == "2026-01-15T20:05:00Z"
    assert decision["regime"] in {"trend", "range"}, decision  # a decision, not `nothing` for want of bars
    assert decision["written"] is True and decision["window_end"] == "2026-01-15T20:05:00Z"
    dynamodb = boto3.client("dynamodb")
    stored = from_wire(dynamodb.get_item(TableName=env["REGIME_TABLE"], Key={"symbol": {"S": "CL"}})["Item"])
    assert stored["regime"] == decision["regime"] and stored["window_end"] == decision["window_end"]
    bars = dynamodb.query(
        TableName=env["BARS_TABLE"],
        KeyConditionExpression="symbol = :s",
        ExpressionAttributeValues={":s": {"S": "CL"}},
    )["Items"]
    assert len(bars) == window_minutes()  # every minute once: the duplicate and the broken copy not kept
    queue = cloud.functions["IngestBarsFunction"].env["FAILURE_QUEUE_URL"]
    set_aside = (
        boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    )
    assert len(set_aside) == 2  # the bar whose high is below its low, the record that is not JSON


def test_invoke_on_a_cloud_that_is_not_running_says_how_to_start_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["invoke", "--stack", str(tmp_path / "state.json"), "regime", "-e", str(EVENTS / "regime.json")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "no local cloud running" in err and "python -m devkit.local_cloud up" in err
    (tmp_path / "state.json").write_text(json.dumps({"stack": "s", "endpoint": "http://127.0.0.1:9"}))
    code = main(
        ["invoke", "--stack", str(tmp_path / "state.json"), "regime", "-e", str(EVENTS / "regime.json")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "does not answer at http://127.0.0.1:9" in err and err.count("\n") == 1


def test_make_invoke_without_a_cloud_or_for_the_image_function_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(tmp_path / "state.json")
    regime = str(EVENTS / "regime.json")
    assert main(["sam-invoke", "RegimeFunction", "-e", regime, "--stack", state]) == 2
    err = capsys.readouterr().err
    assert "no local cloud running" in err and "python -m devkit.local_cloud up" in err
    train = str(EVENTS / "train.json")
    assert main(["sam-invoke", "TrainFunction", "-e", train, "--stack", state]) == 2
    assert f"invoke --stack {state} TrainFunction -e {train}" in capsys.readouterr().err  # the way that works


def test_the_committed_samples_are_what_the_generator_writes() -> None:
    for path, text in sample_files().items():
        assert path.read_text() == text, f"{path}: run python -m devkit.local_cloud.sample_events"
    bars = window_bars()
    assert len(bars) == window_minutes() and bars[-1].ts.isoformat() < BOUNDARY.isoformat()
