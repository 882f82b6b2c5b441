"""`sam deploy` rehearsed on the local endpoint: `sam build`, then `sam deploy` itself, change set and all.

SAM honours AWS_ENDPOINT_URL: it packages the built artifacts into an S3 bucket on the endpoint, uploads the
template, and asks moto's CloudFormation for a change set, which moto creates (every resource of
template.yaml is in it). Where moto refuses: ExecuteChangeSet. moto's CloudFormation has no SAM transform
(`Transform: AWS::Serverless-2016-10-31` is ignored), so the AWS::Serverless::* resources, and the
native types moto has no model for (Firehose, Glue, Athena, alarms, bucket policies...), are dropped, and
execution stops at the first reference to one ("Fn::GetAtt references undefined resource ..."). The
report lists those resources by name; the local cloud's own deployment (devkit/local_cloud: translate
with SAM's translator, create what moto can, create the rest directly) stays the full rehearsal.

What the rehearsal does differently from a deploy to AWS, and why:
- `--resolve-s3` (samconfig.toml): SAM's managed bootstrap stack is created on moto, but moto's stack has
  neither the Tags nor the Outputs SAM checks afterwards, and SAM refuses it ("missing Tags and/or Outputs");
  the rehearsal names its own artifact bucket instead (`--s3-bucket`, created first).
- the template's URL: SAM hands CloudFormation the uploaded template's S3 URL, built on the endpoint; moto
  reads a template URL only when it is an amazonaws.com one or names `localhost` (for
  http://127.0.0.1:PORT/bucket/key it takes "127" for the bucket: NoSuchBucket), so SAM is given the
  endpoint as http://localhost:PORT (the same loopback server).
- the train function's image: `sam deploy` would push it to ECR with `docker push`, and moto's ECR is no
  registry; the image is given as an ECR URI already (`ImageUri`), so SAM packages the rest, pushes nothing.

    python -m infra.sam_deploy            # against a moto server of its own; prints the report as JSON
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import boto3

from devkit.local_cloud.sam_translate import ACCOUNT_ID, REGION
from infra.lambda_image.build import machine_arch
from infra.lambda_image.sam_local import build
from infra.sam_build import SAM, python_on_path
from infra.template_yaml import load_template

ARTIFACT_BUCKET = "regime-trader-sam-rehearsal"
TRAIN_IMAGE = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/regime-trader-train:rehearsal"


class RehearsalError(RuntimeError):
    """`sam build` or `sam deploy` failed; the message carries the end of its output."""


@dataclass
class Rehearsal:
    """How far `sam deploy` got on the endpoint, and what moto cannot create, by name."""

    stack: str
    change_set: str  # its ARN: SAM packaged, uploaded and CloudFormation created the change set
    planned: dict[str, str]  # logical id -> type, the change set's additions (the transformed template)
    status: str  # the stack's status after ExecuteChangeSet (or the change set's, if it never ran)
    error: str  # what moto answered to ExecuteChangeSet ('' when it succeeded)
    unsupported: list[str] = field(default_factory=list)  # "LogicalId (Type)" moto's CloudFormation lacks
    output: str = ""


def _env() -> dict[str, str]:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "PATH": python_on_path()}
    if "AWS_ENDPOINT_URL" in env:  # see the module docstring: moto parses template URLs naming localhost
        env["AWS_ENDPOINT_URL"] = env["AWS_ENDPOINT_URL"].replace("://127.0.0.1:", "://localhost:")
    return env


def deployable(built: Path) -> Path:
    """The built template (zip functions and layer) with the train function back, its image given as a URI."""
    template = load_template(built)
    train = copy.deepcopy(load_template()["Resources"]["TrainFunction"])
    train["Properties"]["ImageUri"] = TRAIN_IMAGE  # already "pushed": SAM packages without docker push
    train.pop("Metadata", None)
    template["Resources"]["TrainFunction"] = train
    out = built.parent / "deploy-template.json"
    out.write_text(json.dumps(template, indent=1))
    return out


def deploy(template: Path, stack: str, parameters: dict[str, str]) -> tuple[int, str]:
    """`sam deploy` of a built template on the endpoint in AWS_ENDPOINT_URL; its exit code and output."""
    boto3.client("s3").create_bucket(Bucket=ARTIFACT_BUCKET)
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write("version = 0.1\n")  # not samconfig.toml's resolve_s3 / resolve_image_repos (see above)
        config = f.name
    args = [
        "deploy",
        "--template-file",
        str(template),
        "--stack-name",
        stack,
        "--config-file",
        config,
        "--s3-bucket",
        ARTIFACT_BUCKET,
        "--image-repository",
        TRAIN_IMAGE.rsplit(":", 1)[0],
        "--capabilities",
        "CAPABILITY_IAM",
        "CAPABILITY_NAMED_IAM",
        "--no-confirm-changeset",
        "--no-fail-on-empty-changeset",
        "--no-progressbar",
        "--region",
        REGION,
        "--parameter-overrides",
        *[f"{k}={v}" for k, v in parameters.items()],
    ]
    try:
        proc = subprocess.run(
            [str(SAM), *args],
            cwd=template.parent,
            env=_env(),
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
    finally:
        os.unlink(config)
    return proc.returncode, proc.stdout + proc.stderr


def inspect(stack: str, output: str) -> Rehearsal:
    """The change set SAM created, the stack's status, and the planned resources moto cannot create."""
    from devkit.local_cloud.skipped_resources import skipped_types

    cf = boto3.client("cloudformation")
    summaries = cf.list_change_sets(StackName=stack).get("Summaries", [])
    if not summaries:
        raise RehearsalError(f"sam deploy created no change set: {output[-3000:]}")
    arn = summaries[-1]["ChangeSetId"]
    described = cf.describe_change_set(ChangeSetName=arn, StackName=stack)
    planned = {
        c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]["ResourceType"]
        for c in described.get("Changes", [])
        if c.get("Type") == "Resource"
    }
    status = cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    errors = [line.strip() for line in output.splitlines() if line.startswith("Error:")]
    missing = skipped_types(set(planned.values()))
    unsupported = sorted(f"{k} ({t})" for k, t in planned.items() if t in missing)
    return Rehearsal(stack, arn, planned, status, errors[-1] if errors else "", unsupported, output)


def rehearse(built: Path, stack: str = "regime-trader-rehearsal") -> Rehearsal:
    """Deploy a `sam build` output (`infra.lambda_image.sam_local.build`) and inspect what it left.

    AWS_ENDPOINT_URL must point at the local endpoint.
    """
    if not os.environ.get("AWS_ENDPOINT_URL"):
        raise RehearsalError("AWS_ENDPOINT_URL is not set: the rehearsal never deploys to AWS")
    parameters = {"Stage": "dev", "Symbols": "CL", "Architecture": machine_arch()}
    started = time.monotonic()
    _, output = deploy(deployable(built), stack, parameters)
    rehearsal = inspect(stack, output)
    rehearsal.output = f"{output}\n(built and deployed in {time.monotonic() - started:.0f} s)"
    return rehearsal


def main() -> int:
    from devkit.local_cloud.endpoint import MotoServer, use_endpoint

    server = MotoServer.start()
    try:
        use_endpoint(server.url)
        with tempfile.TemporaryDirectory() as tmp:
            result = rehearse(build(Path(tmp)))
    finally:
        server.stop()
    report = {
        "stack": result.stack,
        "change_set": result.change_set,
        "planned_resources": len(result.planned),
        "status": result.status,
        "error": result.error,
        "moto_cannot_create": result.unsupported,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
