"""`sam build` + `sam deploy` rehearsed on moto: SAM's own packaging and change set (slow)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from infra.local_cloud.template_yaml import load_template
from infra.sam_deploy import ARTIFACT_BUCKET, rehearse

pytestmark = pytest.mark.slow


def test_sam_deploy_creates_its_change_set_and_names_what_moto_cannot_create(
    moto_reset: str, sam_built: Path
) -> None:
    result = rehearse(sam_built, stack="regime-trader-rehearsal-test")
    resources = load_template()["Resources"]
    # SAM packaged and uploaded every artifact, and CloudFormation (moto) accepted the change set whole.
    assert set(result.planned) == set(resources)
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=ARTIFACT_BUCKET)["Contents"]]
    assert len(keys) >= 4  # the layer, two function zips, the template
    # Where moto refuses: executing it (no SAM transform, and types it has no model for), each named.
    assert "ExecuteChangeSet" in result.error
    assert result.status == "REVIEW_IN_PROGRESS"
    serverless = {k for k, r in resources.items() if r["Type"].startswith("AWS::Serverless::")}
    named = {u.split(" ", 1)[0] for u in result.unsupported}
    assert serverless <= named
    assert "RegimesDeliveryStream" in named and "RegimesDeliveryStream" in result.error
    assert named < set(resources)  # the rest (tables, streams, queues, roles...) moto would create
