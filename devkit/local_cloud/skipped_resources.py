"""Resources the local CloudFormation (moto) skips, created directly with the same properties.

Which types are skipped is asked of moto itself; each skipped type needs a creator here, and a type without
one is reported (never silently dropped: `LocalStack.not_created` lists it and the tests assert it is empty).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from devkit.local_cloud.sam_translate import ACCOUNT_ID, REGION


def skipped_types(types: set[str]) -> set[str]:
    """The resource types among `types` that moto's CloudFormation does not create."""
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map  # heavy import (~1.5 s): only here

    supported = set(get_model_map())
    return {t for t in types if t not in supported and t not in NULL_MODELS and not t.startswith("Custom::")}


@dataclass(frozen=True)
class Planned:
    """A skipped resource's name (what `Ref` gives) and ARN (`GetAtt .Arn`), fixed before the stack exists."""

    name: str
    arn: str | None


def plan(stack_name: str, logical_id: str, rtype: str, props: Mapping[str, Any]) -> Planned:
    """Name a skipped resource the way the deployed one can be found again."""
    if rtype == "AWS::KinesisFirehose::DeliveryStream":
        name = f"{stack_name}-{logical_id}"
        return Planned(name, f"arn:aws:firehose:{REGION}:{ACCOUNT_ID}:deliverystream/{name}")
    if rtype == "AWS::Glue::Database":
        return Planned(str(props["DatabaseInput"]["Name"]), None)
    if rtype == "AWS::Glue::Table":
        return Planned(str(props["TableInput"]["Name"]), None)
    if rtype in ("AWS::Athena::WorkGroup", "AWS::Athena::NamedQuery"):
        return Planned(str(props["Name"]), None)
    return Planned(f"{stack_name}-{logical_id}", None)


def _firehose(name: str, props: dict[str, Any]) -> None:
    boto3.client("firehose").create_delivery_stream(DeliveryStreamName=name, **props)


def _glue_database(name: str, props: dict[str, Any]) -> None:
    boto3.client("glue").create_database(DatabaseInput=props["DatabaseInput"])


def _glue_table(name: str, props: dict[str, Any]) -> None:
    boto3.client("glue").create_table(DatabaseName=props["DatabaseName"], TableInput=props["TableInput"])


def _athena_workgroup(name: str, props: dict[str, Any]) -> None:
    boto3.client("athena").create_work_group(
        Name=name, Description=props.get("Description", ""), Configuration=props["WorkGroupConfiguration"]
    )


def _athena_named_query(name: str, props: dict[str, Any]) -> None:
    boto3.client("athena").create_named_query(**props)


def _requires_tls(statement: dict[str, Any]) -> bool:
    return statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}


def _bucket_policy(name: str, props: dict[str, Any]) -> None:
    # The local endpoint speaks plain HTTP on loopback and moto enforces bucket policies, so the TLS-only
    # deny would refuse every call there: it is the one statement left out locally.
    document = dict(props["PolicyDocument"])
    document["Statement"] = [s for s in document["Statement"] if not _requires_tls(s)]
    if document["Statement"]:
        boto3.client("s3").put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps(document))


def _alarm(name: str, props: dict[str, Any]) -> None:
    boto3.client("cloudwatch").put_metric_alarm(AlarmName=name, **props)


def _event_invoke_config(name: str, props: dict[str, Any]) -> None:
    boto3.client("lambda").put_function_event_invoke_config(**props)


CREATORS: dict[str, Callable[[str, dict[str, Any]], None]] = {
    "AWS::KinesisFirehose::DeliveryStream": _firehose,
    "AWS::Glue::Database": _glue_database,
    "AWS::Glue::Table": _glue_table,
    "AWS::Athena::WorkGroup": _athena_workgroup,
    "AWS::Athena::NamedQuery": _athena_named_query,
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::Lambda::EventInvokeConfig": _event_invoke_config,
}
# Creation order: what others refer to first.
ORDER = list(CREATORS)
