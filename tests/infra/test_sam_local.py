"""`sam build` + `sam local invoke --skip-pull-image` of the zip functions, in real containers, against moto;
and `sam deploy` of the same build rehearsed on moto (in this file so that one `sam build` serves both on
one test worker).

The image is the offline stand-in (infra.lambda_image, built once per machine and cached); Docker and
debootstrap are installed and the daemon started when missing. The endpoint listens on Docker's bridge
gateway so that the containers reach it. Slow: ~1 min with the image cached (builds and two containers).
The train function is an image function whose Dockerfile installs scikit-learn from a registry inside
`docker build`: it is invoked through the in-process path instead
(tests/devkit/local_cloud/test_local_cloud_invoke.py).
"""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from devkit.local_cloud.cloud import LocalCloud
from devkit.local_cloud.endpoint import MotoServer, endpoint_environment
from infra.lambda_image import sam_local
from infra.lambda_image.build import docker_ready, ensure_docker
from infra.sam_deploy import ARTIFACT_BUCKET, rehearse
from infra.template_yaml import load_template
from regime.contracts import Bar, BarError, ModelPointer, PointerEntry
from regime.inference import RegimeModel
from regime.synthetic import synthetic_days
from regime_aws.container import cold_start
from regime_aws.dynamodb_items import from_wire, to_wire

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"


@pytest.fixture(scope="module")
def bridge_endpoint() -> Iterator[MotoServer]:
    """A moto server on Docker's bridge gateway (the containers' way to the host); env restored after."""
    ensure_docker()
    server = MotoServer.start(host=sam_local.bridge_gateway())
    # The functions' clients are made once per process: the in-process handlers here must reach this
    # endpoint, and the tests after this module the session's one again.
    cold_start()
    try:
        with endpoint_environment(server.url):
            yield server
    finally:
        server.stop()
        cold_start()


@pytest.fixture(scope="module")
def cloud(bridge_endpoint: MotoServer) -> LocalCloud:
    return LocalCloud.deploy("regime-trader-sam-local", include=set())


@pytest.fixture(scope="module")
def image(bridge_endpoint: MotoServer) -> Iterator[str]:
    tag = sam_local.endpoint_image(bridge_endpoint.url)
    yield tag
    sam_local.remove_invoke_images(tag)


def _event_bars(path: Path) -> tuple[set[str], int]:
    """The distinct valid CL minutes of a Kinesis event, and how many records break the contract."""
    good, bad = set(), 0
    for record in json.loads(path.read_text())["Records"]:
        try:
            good.add(Bar.from_json(base64.b64decode(record["kinesis"]["data"])).ts.isoformat())
        except (BarError, ValueError):
            bad += 1
    return good, bad


def test_ingest_bars_in_a_container_writes_the_bars_and_quarantines_the_rest(
    cloud: LocalCloud, image: str, sam_built: Path
) -> None:
    fn = cloud.functions["IngestBarsFunction"]
    event = EVENTS / "ingest_bars.json"
    result = sam_local.invoke(sam_built, "IngestBarsFunction", event, fn.env, image)
    assert result.response == {"batchItemFailures": []}
    good, bad = _event_bars(event)
    assert good and bad  # the sample carries both
    items = boto3.client("dynamodb").query(
        TableName=fn.env["BARS_TABLE"],
        KeyConditionExpression="symbol = :s",
        ExpressionAttributeValues={":s": {"S": "CL"}},
    )["Items"]
    stored = {Bar.from_dict({k: v for k, v in from_wire(i).items() if k != "expires_at"}) for i in items}
    assert {b.ts.isoformat() for b in stored} == good
    messages = (
        boto3.client("sqs")
        .receive_message(QueueUrl=fn.env["FAILURE_QUEUE_URL"], MaxNumberOfMessages=10)
        .get("Messages", [])
    )
    assert len(messages) == bad
    assert all(json.loads(m["Body"])["reason"] for m in messages)


def test_regime_in_a_container_decides_with_the_pointed_model(
    cloud: LocalCloud, image: str, sam_built: Path, layer_model: Path
) -> None:
    fn = cloud.functions["RegimeFunction"]
    env = {**fn.env, "BAR_WAIT_SECONDS": "0"}
    event = EVENTS / "regime.json"
    boundary = datetime.fromisoformat(json.loads(event.read_text())["time"]).astimezone(UTC)
    # The window's bars, on the minutes before the event's boundary (what ingest would have written).
    bars = synthetic_days(1, seed=5, symbol="CL").bars.to_bars()[: int(env["WINDOW_MINUTES"])]
    first = boundary - timedelta(minutes=len(bars))
    dynamodb = boto3.client("dynamodb")
    for b in bars:
        ts = first + (b.ts - bars[0].ts)
        dynamodb.put_item(TableName=env["BARS_TABLE"], Item=to_wire(replace(b, ts=ts).to_dict()))
    model = RegimeModel.load(layer_model.read_bytes())
    key = f"models/CL/ensemble-{model.version}.onnx"
    boto3.client("s3").put_object(Bucket=env["MODELS_BUCKET"], Key=key, Body=layer_model.read_bytes())
    pointer = ModelPointer().with_entry("CL", PointerEntry(key, model.version))
    boto3.client("ssm").put_parameter(
        Name=env["MODEL_POINTER_PARAMETER"], Value=pointer.to_json(), Type="String", Overwrite=True
    )

    result = sam_local.invoke(sam_built, "RegimeFunction", event, env, image)

    assert "decisions" in result.response, (result.response, result.log[-3000:])
    decision = result.response["decisions"]["CL"]
    assert decision["model_version"] == model.version, result.log[-3000:]  # loaded from S3, in the container
    assert decision["regime"] in {"trend", "range", "nothing"} and decision["outcome"] == "written"
    assert result.response["boundary"] == boundary.strftime("%Y-%m-%dT%H:%M:%SZ")
    stored = from_wire(dynamodb.get_item(TableName=env["REGIME_TABLE"], Key={"symbol": {"S": "CL"}})["Item"])
    assert stored["model_version"] == model.version and stored["regime"] == decision["regime"]
    history = dynamodb.get_item(
        TableName=env["REGIME_HISTORY_TABLE"],
        Key={"symbol": {"S": "CL"}, "window_end": {"S": decision["window_end"]}},
    )["Item"]
    assert from_wire(history)["archived"] is True  # the Firehose batch was accepted


def test_the_local_cloud_with_a_docker_daemon_running_never_runs_lambdas_in_containers(
    cloud: LocalCloud, bridge_endpoint: MotoServer
) -> None:
    assert docker_ready()
    with urllib.request.urlopen(f"{bridge_endpoint.url}/moto-api/config", timeout=5) as response:
        assert json.loads(response.read())["lambda"]["use_docker"] is False
    kinesis = boto3.client("kinesis", config=Config(read_timeout=15, retries={"max_attempts": 1}))
    bars = synthetic_days(1, seed=2, symbol="CL").bars.to_bars()[:20]
    started = time.monotonic()
    # The stream has the ingest function's event source mapping: with Docker in use, moto would try to run
    # the function in a container for each record (pulling an image it cannot reach) and this would hang.
    kinesis.put_records(
        StreamName=cloud.stack.outputs["BarStreamName"],
        Records=[{"Data": b.to_json().encode(), "PartitionKey": b.symbol} for b in bars],
    )
    assert time.monotonic() - started < 10
    assert cloud.pump() == len(bars)  # and the local cloud delivers them to the handler itself


def test_sam_deploy_creates_its_change_set_and_names_what_moto_cannot_create(
    moto_reset: str, sam_built: Path
) -> None:
    with endpoint_environment(moto_reset):  # on loopback (SAM's template URL must name localhost for moto)
        result = rehearse(sam_built, stack="regime-trader-rehearsal-test")
        keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=ARTIFACT_BUCKET)["Contents"]]
    resources = load_template()["Resources"]
    # SAM packaged and uploaded every artifact, and CloudFormation (moto) accepted the change set whole.
    assert set(result.planned) == set(resources)
    assert len(keys) >= 4  # the layer, two function zips, the template
    # Where moto refuses: executing it (no SAM transform, and types it has no model for), each named.
    assert "ExecuteChangeSet" in result.error
    assert result.status == "REVIEW_IN_PROGRESS"
    serverless = {k for k, r in resources.items() if r["Type"].startswith("AWS::Serverless::")}
    named = {u.split(" ", 1)[0] for u in result.unsupported}
    assert serverless <= named
    assert "RegimesDeliveryStream" in named and "RegimesDeliveryStream" in result.error
    assert named < set(resources)  # the rest (tables, streams, queues, roles...) moto would create
