"""`make invoke` (`sam build` + `sam local invoke --skip-pull-image` of the zip functions, in real containers)
on a running local cloud, the sample events chained; and `sam deploy` of the same build rehearsed on moto
(in this file so that one `sam build` serves both on one test worker).

The image is the offline stand-in (infra.lambda_image, built once per machine and cached); Docker and
debootstrap are installed and the daemon started when missing. The local cloud's endpoint listens on
loopback, as `up` starts it; the command relays it onto Docker's bridge for the containers. Slow: ~2 min
with the image cached (the build, three containers).
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
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from devkit.local_cloud.cloud import LocalCloud
from devkit.local_cloud.endpoint import MotoServer, endpoint_environment
from devkit.local_cloud.sam_deploy import ARTIFACT_BUCKET, rehearse
from devkit.local_cloud.sam_invoke import sam_invoke
from infra.lambda_image import sam_local
from infra.lambda_image.build import docker_ready, ensure_docker
from infra.template_yaml import load_template
from regime.contracts import Bar, BarError, ModelPointer, PointerEntry
from regime.inference import RegimeModel
from regime.synthetic import synthetic_days
from regime_aws.bar_windows import bar_of_item
from regime_aws.container import cold_start
from regime_aws.dynamodb_items import from_wire

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


def _event_bars(path: Path) -> tuple[set[str], int]:
    """The distinct valid CL minutes of a Kinesis event, and how many records break the contract."""
    good, bad = set(), 0
    for record in json.loads(path.read_text())["Records"]:
        try:
            good.add(Bar.from_json(base64.b64decode(record["kinesis"]["data"])).ts.isoformat())
        except (BarError, ValueError):
            bad += 1
    return good, bad


@pytest.fixture
def running_on_loopback(tmp_path: Path) -> Iterator[tuple[LocalCloud, Path]]:
    """A local cloud as `up` runs it (moto on 127.0.0.1, out of the containers' reach), and its state file."""
    ensure_docker()
    server = MotoServer.start()
    try:
        with endpoint_environment(server.url):
            cloud = LocalCloud.deploy("regime-trader-make-invoke", include=set())
            state = tmp_path / "state.json"
            state.write_text(json.dumps({"stack": cloud.stack.name, **cloud.stack.described(server.url)}))
            yield cloud, state
    finally:
        server.stop()
        # The invoke image names the relay's address: the endpoint's port on the bridge's gateway.
        relayed = f"http://{sam_local.bridge_gateway()}:{server.url.rsplit(':', 1)[1]}"
        sam_local.remove_invoke_images(sam_local.endpoint_image_tag(relayed))


def test_make_invoke_chains_ingest_and_regime_in_containers_and_fails_when_the_function_fails(
    running_on_loopback: tuple[LocalCloud, Path],
    sam_built: Path,
    layer_model: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cloud, state = running_on_loopback
    env = cloud.functions["RegimeFunction"].env

    ingest = EVENTS / "ingest_bars.json"
    assert sam_invoke("IngestBarsFunction", ingest, state, sam_built) == 0
    assert sam_local.last_json_line(capsys.readouterr().out) == {"batchItemFailures": []}
    good, bad = _event_bars(ingest)
    dynamodb = boto3.client("dynamodb")
    items = dynamodb.query(
        TableName=env["BARS_TABLE"],
        KeyConditionExpression="symbol = :s",
        ExpressionAttributeValues={":s": {"S": "CL"}},
    )["Items"]
    assert {bar_of_item(i).ts.isoformat() for i in items} == good and len(
        good
    ) == 80  # through the relay, on the stack's table
    queue = cloud.functions["IngestBarsFunction"].env["FAILURE_QUEUE_URL"]
    set_aside = (
        boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    )
    assert len(set_aside) == bad == 2 and all(json.loads(m["Body"])["reason"] for m in set_aside)

    # The stack's model, pointed at in SSM: the container loads it from S3 (the layer's is the fallback).
    model = RegimeModel.load(layer_model.read_bytes())
    key = f"models/CL/ensemble-{model.version}.onnx"
    boto3.client("s3").put_object(Bucket=env["MODELS_BUCKET"], Key=key, Body=layer_model.read_bytes())
    pointer = ModelPointer().with_entry("CL", PointerEntry(key, model.version))
    boto3.client("ssm").put_parameter(
        Name=env["MODEL_POINTER_PARAMETER"], Value=pointer.to_json(), Type="String", Overwrite=True
    )
    assert sam_invoke("RegimeFunction", EVENTS / "regime.json", state, sam_built) == 0
    response = sam_local.last_json_line(capsys.readouterr().out)
    decision = response["decisions"]["CL"]
    assert decision["regime"] in {"trend", "range"} and decision["model_version"] == model.version, response
    assert decision["outcome"] == "written" and response["boundary"] == "2026-01-15T20:05:00Z"
    stored = from_wire(dynamodb.get_item(TableName=env["REGIME_TABLE"], Key={"symbol": {"S": "CL"}})["Item"])
    assert stored["regime"] == decision["regime"] and stored["model_version"] == model.version
    history = dynamodb.get_item(
        TableName=env["REGIME_HISTORY_TABLE"],
        Key={"symbol": {"S": "CL"}, "window_end": {"S": decision["window_end"]}},
    )["Item"]
    assert from_wire(history)["archived"] is True  # the Firehose batch was accepted

    # A function error: `sam local invoke` exits 0, the command does not.
    future = tmp_path / "future.json"
    future.write_text(
        json.dumps({**json.loads((EVENTS / "regime.json").read_text()), "time": "2099-01-01T00:00:00Z"})
    )
    assert sam_invoke("RegimeFunction", future, state, sam_built) == 1
    out = capsys.readouterr()
    assert sam_local.last_json_line(out.out)["errorType"] == "EventError"
    assert "RegimeFunction failed: EventError: time: 2099-01-01" in out.err


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
