"""Deploy template.yaml on the local endpoint: translate, create the stack, then what moto skips.

Nothing here lists the project's resources: they all come from template.yaml.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

import boto3

from devkit.local_cloud.endpoint import DUMMY_CREDENTIALS
from devkit.local_cloud.intrinsics import condition_values, resolve
from devkit.local_cloud.sam_translate import (
    ACCOUNT_ID,
    ARTIFACT_BUCKET,
    REGION,
    artifact_key,
    translate,
    with_local_artifacts,
)
from devkit.local_cloud.skipped_resources import CREATORS, ORDER, Planned, plan, skipped_types
from infra.template_yaml import load_template

DEFAULT_STACK = "regime-trader-local"
# The endpoint's dummy keys, as the environment variables a host sets when the file names an endpoint.
LOCAL_CREDENTIALS = {k: DUMMY_CREDENTIALS[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}

# ARNs of created resources, by type, from their physical id (what GetAtt .Arn gives on AWS).
_ARN_FORMATS = {
    "AWS::S3::Bucket": "arn:aws:s3:::{id}",
    "AWS::Kinesis::Stream": "arn:aws:kinesis:{region}:{account}:stream/{id}",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{region}:{account}:table/{id}",
    "AWS::KMS::Key": "arn:aws:kms:{region}:{account}:key/{id}",
    "AWS::IAM::Role": "arn:aws:iam::{account}:role/{id}",
    "AWS::Lambda::Function": "arn:aws:lambda:{region}:{account}:function:{id}",
    "AWS::SQS::Queue": "arn:aws:sqs:{region}:{account}:{queue}",
}


class DeployError(RuntimeError):
    """The local stack could not be created; the message says which resource and why."""


@dataclass
class LocalStack:
    """A deployed local stack: the translated template and every resource's physical id."""

    name: str
    template: dict[str, Any]
    parameters: dict[str, str]
    physical: dict[str, str]
    outputs: dict[str, str]
    not_created: list[str] = field(default_factory=list)

    def described(self, endpoint: str) -> dict[str, Any]:
        """What `regime-trader run --stack-outputs FILE` reads: the endpoint with its region and dummy
        credentials (so that a shell without AWS variables reaches it), the outputs, the parameters."""
        return {
            "endpoint": endpoint,
            "region": REGION,
            "credentials": dict(LOCAL_CREDENTIALS),
            "outputs": self.outputs,
            "parameters": self.parameters,
        }

    def resource_type(self, logical_id: str) -> str:
        return str(self.template["Resources"][logical_id]["Type"])

    def arn(self, logical_id: str) -> str | None:
        """ARN of a resource (None if its type's ARN is not derivable from its physical id)."""
        rtype = self.resource_type(logical_id)
        physical = self.physical[logical_id]
        if rtype == "AWS::KinesisFirehose::DeliveryStream":
            return f"arn:aws:firehose:{REGION}:{ACCOUNT_ID}:deliverystream/{physical}"
        fmt = _ARN_FORMATS.get(rtype)
        if fmt is None:
            return None
        return fmt.format(region=REGION, account=ACCOUNT_ID, id=physical, queue=physical.rsplit("/", 1)[-1])


def parameter_values(template: dict[str, Any], overrides: dict[str, str] | None) -> dict[str, str]:
    """Template parameter defaults with overrides applied (lists as CloudFormation passes them: a,b)."""
    values = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}
    values.update(overrides or {})
    return values


def _pseudo() -> dict[str, str]:
    return {
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }


def _upload_placeholder_artifacts(template: dict[str, Any]) -> None:
    """Functions run in-process locally, so their packages on the endpoint are stubs."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("README.txt", "local stub: the local cloud runs the handlers in-process\n")
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            s3.put_object(Bucket=ARTIFACT_BUCKET, Key=artifact_key(logical_id), Body=buf.getvalue())


def deploy(stack_name: str = DEFAULT_STACK, parameters: dict[str, str] | None = None) -> LocalStack:
    """Create the whole of template.yaml on the endpoint in AWS_ENDPOINT_URL; return its resources."""
    sam = load_template()
    params = parameter_values(sam, parameters)
    packaged = with_local_artifacts(sam)
    cfn = without_false_conditions(translate(packaged, params), params)
    resources: dict[str, Any] = cfn["Resources"]
    skipped_set = skipped_types({r["Type"] for r in resources.values()})
    known = {**params, **_pseudo()}
    planned: dict[str, Planned] = {}
    for logical_id, res in resources.items():
        if res["Type"] in skipped_set:
            props = resolve(res.get("Properties", {}), known, lambda n, a: None, partial=True)
            planned[logical_id] = plan(stack_name, logical_id, res["Type"], props)

    def planned_att(name: str, attr: str) -> str | None:
        p = planned.get(name)
        return p.arn if p is not None and attr == "Arn" else None

    planned_refs = {k: p.name for k, p in planned.items()}
    # moto joins a list parameter's Ref character by character: hand it the list itself.
    list_refs: dict[str, Any] = {
        k: params[k].split(",")
        for k, v in sam.get("Parameters", {}).items()
        if v["Type"] == "CommaDelimitedList"
    }
    created = copy.deepcopy(cfn)
    refs = {**planned_refs, **list_refs}
    created["Resources"] = {
        k: resolve(v, refs, planned_att, partial=True) for k, v in resources.items() if k not in planned
    }
    for res in created["Resources"].values():
        depends = res.get("DependsOn")
        if depends:
            kept = [d for d in ([depends] if isinstance(depends, str) else depends) if d not in planned]
            res["DependsOn"] = kept
            if not kept:
                del res["DependsOn"]
    created["Outputs"] = resolve(cfn.get("Outputs", {}), refs, planned_att, partial=True)

    _upload_placeholder_artifacts(packaged)
    cf = boto3.client("cloudformation")
    try:
        cf.create_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(created),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        )
    except cf.exceptions.ClientError as exc:
        raise DeployError(f"create_stack {stack_name}: {exc}") from exc
    described = cf.describe_stacks(StackName=stack_name)["Stacks"][0]
    if described["StackStatus"] != "CREATE_COMPLETE":
        raise DeployError(
            f"stack {stack_name}: {described['StackStatus']} {described.get('StackStatusReason', '')}"
        )
    physical = physical_ids(stack_name)
    physical.update(planned_refs)
    stack = LocalStack(
        stack_name,
        cfn,
        params,
        physical,
        {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
    )
    _create_skipped(stack, planned)
    return stack


def without_false_conditions(cfn: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    """The translated template without the resources whose Condition is false for these parameters (as
    CloudFormation creates them: not at all)."""
    holds = condition_values(cfn.get("Conditions", {}), params)
    kept = {k: r for k, r in cfn["Resources"].items() if holds.get(r.get("Condition", ""), True)}
    return {**cfn, "Resources": kept}


def physical_ids(stack_name: str) -> dict[str, str]:
    """Each resource of a stack on the endpoint: logical id -> physical id (what CloudFormation made)."""
    cf = boto3.client("cloudformation")
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for page in cf.get_paginator("list_stack_resources").paginate(StackName=stack_name)
        for r in page["StackResourceSummaries"]
    }


def _create_skipped(stack: LocalStack, planned: dict[str, Planned]) -> None:
    refs = {**stack.parameters, **_pseudo(), **stack.physical}

    def att(name: str, attr: str) -> str | None:
        if attr != "Arn" or name not in stack.physical:
            return None
        return stack.arn(name)

    resources = stack.template["Resources"]
    order = {t: i for i, t in enumerate(ORDER)}
    for logical_id in sorted(planned, key=lambda k: order.get(resources[k]["Type"], len(order))):
        rtype = resources[logical_id]["Type"]
        creator = CREATORS.get(rtype)
        if creator is None:
            stack.not_created.append(f"{logical_id} ({rtype}): no local creator")
            continue
        props = resolve(resources[logical_id].get("Properties", {}), refs, att)
        try:
            creator(planned[logical_id].name, props)
        except Exception as exc:  # report which resource broke, with the endpoint's own message
            raise DeployError(f"{logical_id} ({rtype}): {exc}") from exc
