"""infra/host/template.yaml: cfn-lint and checkov pass for real, the instance role is least privilege and
covers every AWS call the host and its boot make, and the user data defines what the units read."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra.template_yaml import REPO, load_template
from tests.infra.test_template import assert_checkov_clean, run_tool

HOST = REPO / "infra" / "host"
TEMPLATE = HOST / "template.yaml"
# Actions with no resource type to name (or whose resource cannot be named by the instance's own role),
# each allowed on "*" only with the condition that limits it instead.
UNNAMEABLE = {
    "cloudwatch:PutMetricData": {
        "StringEquals": {"cloudwatch:namespace": ["RegimeTrader", "RegimeTrader/Host"]}
    },
    "ssmmessages:CreateControlChannel": None,
    "ssmmessages:CreateDataChannel": None,
    "ssmmessages:OpenControlChannel": None,
    "ssmmessages:OpenDataChannel": None,
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


@pytest.fixture(scope="module")
def statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    role = template["Resources"]["HostRole"]["Properties"]
    return [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]


def test_cfn_lint_finds_nothing() -> None:
    proc = run_tool("cfn-lint", str(TEMPLATE))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_checkov_fails_nothing_and_every_skip_has_a_reason(template: dict[str, Any]) -> None:
    assert_checkov_clean(TEMPLATE, template, 20)  # the instance, the role, the key, the logs, the secret


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _literal(resource: Any) -> str:
    """A resource ARN as text ('!Ref X' and '!GetAtt X.Arn' name one resource of this stack)."""
    if isinstance(resource, str):
        return resource
    if "Fn::Sub" in resource:
        return str(resource["Fn::Sub"])
    return json.dumps(resource)


def test_no_wildcard_action_and_star_resources_only_where_nothing_can_be_named(
    statements: list[dict[str, Any]],
) -> None:
    assert len(statements) >= 8
    for st in statements:
        assert st["Effect"] == "Allow"
        actions = _as_list(st["Action"])
        assert not any("*" in a for a in actions), st["Sid"]
        for resource in _as_list(st["Resource"]):
            text = _literal(resource)
            if text == "*":
                for action in actions:
                    assert action in UNNAMEABLE, f"{st['Sid']}: {action} on * can be named"
                    if UNNAMEABLE[action] is not None:
                        assert st.get("Condition") == UNNAMEABLE[action], st["Sid"]
            elif "*" in text:
                # a wildcard only after a name: a stack's id, a prefix's keys, or instances by their tag
                assert re.search(
                    r"(stack/\$\{CloudStackName\}/\*|\$\{ArtifactPrefix\}/\*|instance/\*)$", text
                )
                if text.endswith("instance/*"):
                    assert "aws:ResourceTag/regime-trader-host" in json.dumps(st["Condition"])


def test_the_secret_read_is_one_secret_and_its_key_only_through_secrets_manager(
    statements: list[dict[str, Any]],
) -> None:
    by_action = {a: st for st in statements for a in _as_list(st["Action"])}
    assert by_action["secretsmanager:GetSecretValue"]["Resource"] == {"Ref": "GatewayLogin"}
    decrypt = by_action["kms:Decrypt"]
    assert decrypt["Resource"] == {"Fn::GetAtt": ["HostKey", "Arn"]}
    assert "kms:ViaService" in decrypt["Condition"]["StringEquals"]
    # the cloud's half (streams, table, parameters) is the cloud stack's own HostPolicy, not a copy
    role = load_template(TEMPLATE)["Resources"]["HostRole"]["Properties"]
    assert role["ManagedPolicyArns"] == [{"Ref": "CloudHostPolicyArn"}]


def _calls(*paths: str) -> set[str]:
    """boto3 method names called in these source files (`.put_records(`...)."""
    text = "".join((REPO / p).read_text() for p in paths)
    return set(re.findall(r"\.([a-z_]+)\(", text))


def test_every_call_the_host_makes_is_allowed_and_nothing_else(statements: list[dict[str, Any]]) -> None:
    cloud = load_template()["Resources"]["HostPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allowed = {a for st in [*statements, *cloud] for a in _as_list(st["Action"])}
    # (source file, boto3 call, IAM action): what the host and its boot really do
    needed = [
        ("trader_host/cloud/bar_publisher.py", "put_records", "kinesis:PutRecords"),
        ("trader_host/cloud/journal_shipper.py", "put_record_batch", "firehose:PutRecordBatch"),
        ("trader_host/cloud/regime_reader.py", "get_item", "dynamodb:GetItem"),
        ("trader_host/cloud/kill_switch.py", "get_parameter", "ssm:GetParameter"),
        ("trader_host/assembly/strategy_overrides.py", "get_parameter", "ssm:GetParameter"),
        ("trader_host/assembly/broker_choice.py", "get_parameter", "ssm:GetParameter"),
        ("trader_host/cloud/stack_outputs.py", "describe_stacks", "cloudformation:DescribeStacks"),
        ("trader_host/cloud/metrics_publisher.py", "put_metric_data", "cloudwatch:PutMetricData"),
        ("infra/host/ibc_credentials.py", "get_secret_value", "secretsmanager:GetSecretValue"),
    ]
    for path, call, action in needed:
        assert call in _calls(path), f"{path} no longer calls {call}: update this list and the role"
        assert action in allowed, action
    # the cloud stack's HostPolicy names each resource (no "*" at all)
    for st in cloud:
        assert "*" not in json.dumps(st["Resource"]), st


def test_the_units_read_only_variables_the_user_data_defines(template: dict[str, Any]) -> None:
    script = template["Resources"]["HostInstance"]["Properties"]["UserData"]["Fn::Base64"]["Fn::Sub"][0]
    env = re.search(r"<<'ENV'\n(.*?)\nENV\n", script, re.S)
    assert env is not None
    defined = {line.split("=", 1)[0] for line in env.group(1).splitlines()}
    used: set[str] = set()
    for path in [
        *(HOST / "systemd").glob("*.service"),
        HOST / "bin" / "ibgateway-start",
        HOST / "bootstrap.sh",
    ]:
        used |= set(re.findall(r"\$\{?([A-Z][A-Z0-9_]+)", path.read_text()))
    used -= {"ART", "HOST"}  # the boot script's own
    assert used and used <= defined, used - defined


def test_the_user_data_checks_every_artifact_before_running_anything(template: dict[str, Any]) -> None:
    script: str = template["Resources"]["HostInstance"]["Properties"]["UserData"]["Fn::Base64"]["Fn::Sub"][0]
    check = script.index("sha256sum --check --strict SHA256SUMS")
    assert check < script.index("tar -xzf") < script.index("/opt/regime-trader/host/bootstrap.sh")
    assert "set -euo pipefail" in script


def test_nothing_comes_in_and_the_metadata_service_wants_tokens(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    group = resources["HostSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert {(r["FromPort"], r["ToPort"]) for r in group["SecurityGroupEgress"]} == {(443, 443), (4000, 4001)}
    data = resources["HostLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    params = template["Parameters"]
    assert params["InstanceType"]["Default"] == "t4g.medium"  # arm64; the size is argued in the template
    assert "arm64" in params["ImageId"]["Default"]


def test_no_secret_in_the_host_files() -> None:
    for path in HOST.rglob("*"):
        if path.is_file() and path.suffix != ".pyc":
            text = path.read_text()
            assert not re.search(r"IbPassword=[^{\s]", text), path  # written only at run time
            assert "AKIA" not in text, path


def test_readme_runbook_commands_name_this_template_and_its_outputs() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Running the host on EC2", 1)[1].split("\n## ", 1)[0]
    outputs = set(load_template(TEMPLATE)["Outputs"])
    for needed in ("infra/host/template.yaml", "python -m infra.host.bundle", "put-secret-value"):
        assert needed in section, needed
    named = set(re.findall(r"Outputs\[\?OutputKey==`(\w+)`\]", section))
    assert named and named <= outputs | set(load_template()["Outputs"]), named - outputs
    assert Path(HOST / "bootstrap.sh").stat().st_mode & 0o111
