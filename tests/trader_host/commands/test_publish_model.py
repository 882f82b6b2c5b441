"""`regime-trader publish-model` against the local cloud: the model, its records and the pointer at it."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

from devkit.local_cloud.cloud import LocalCloud
from regime.contracts import ModelPointer
from regime.inference import RegimeModel
from trader_host.cli import main
from trader_host.cloud.aws import client

pytestmark = [pytest.mark.integration]


@pytest.fixture
def state_file(moto_endpoint: str, tmp_path: Path) -> Path:
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).close()
    cloud = LocalCloud.deploy(include=set())  # the stack's resources; no schedule fires here
    path = tmp_path / "state.json"
    path.write_text(json.dumps(cloud.stack.described(moto_endpoint)))
    return path


def test_publish_model_uploads_records_and_points(
    state_file: Path,
    small_model_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outputs = json.loads(state_file.read_text())["outputs"]
    version = RegimeModel.load(small_model_path).version
    with monkeypatch.context() as shell:  # a shell with no AWS variables: the state file says it all
        for name in [k for k in os.environ if k.startswith("AWS_")]:
            shell.delenv(name)
        environment = dict(os.environ)
        assert (
            main(["publish-model", "--stack", str(state_file), "--model", str(small_model_path.parent)]) == 0
        )
        assert dict(os.environ) == environment  # the file's endpoint is handed to boto3, never exported
    assert f"published {version} for CL" in capsys.readouterr().out

    ssm, s3 = client("ssm"), client("s3")
    pointer = ModelPointer.from_json(
        ssm.get_parameter(Name=outputs["ModelPointerParameterName"])["Parameter"]["Value"]
    )
    entry = pointer.entry("CL")
    assert entry is not None and entry.version == version
    body = s3.get_object(Bucket=outputs["ModelsBucketName"], Key=entry.key)["Body"].read()
    assert RegimeModel.load(body).version == version  # what the regime function will load
    history = json.loads(
        s3.get_object(Bucket=outputs["ModelsBucketName"], Key=f"models/CL/promotions/{version}.json")["Body"]
        .read()
        .decode()
    )
    assert history["promoted"] is True and "published by hand" in history["rule"]

    # A second publish says what it replaced; a symbol the stack does not serve is refused, nothing written.
    assert main(["publish-model", "--stack", str(state_file), "--model", str(small_model_path)]) == 0
    assert f"(was {version})" in capsys.readouterr().out
    assert (
        main(
            ["publish-model", "--stack", str(state_file), "--model", str(small_model_path), "--symbol", "MES"]
        )
        == 2
    )
    assert "serves CL, not MES" in capsys.readouterr().err


def test_a_file_that_is_not_a_model_is_refused_before_any_write(
    state_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ensemble.onnx").write_text("not a model")
    assert main(["publish-model", "--stack", str(state_file), "--model", str(tmp_path)]) == 2
    assert "not an ONNX model" in capsys.readouterr().err
    bucket = json.loads(state_file.read_text())["outputs"]["ModelsBucketName"]
    assert client("s3").list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
