"""X-Ray behind one parameter: Tracing sets Lambda's tracing mode and Powertools' Tracer of the three
functions, and their roles get X-Ray's write actions only when it is Active."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.template_yaml import REPO, load_template

FUNCTIONS = ("ingest_bars", "regime", "train")
ROLES = ("IngestBarsRole", "RegimeRole", "TrainRole")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def test_one_parameter_drives_lambdas_tracing_and_the_tracer(template: dict[str, Any]) -> None:
    param = template["Parameters"]["Tracing"]
    assert param["AllowedValues"] == ["Active", "PassThrough"] and param["Default"] == "PassThrough"
    assert template["Conditions"]["TracingOn"] == {"Fn::Equals": [{"Ref": "Tracing"}, "Active"]}
    function = template["Globals"]["Function"]
    assert function["Tracing"] == {"Ref": "Tracing"}
    assert function["Environment"]["Variables"]["TRACING"] == {"Ref": "Tracing"}
    for name in FUNCTIONS:
        code = (REPO / "functions" / name / "app.py").read_text()
        assert "tracer = function_tracer()" in code and "@tracer.capture_lambda_handler" in code, name


def test_xray_permissions_only_when_tracing_is_on(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    policy = resources["TracingPolicy"]
    assert policy["Type"] == "AWS::IAM::Policy" and policy["Condition"] == "TracingOn"
    assert policy["Properties"]["Roles"] == [{"Ref": role} for role in ROLES]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    # no X-Ray action anywhere else
    others = {k: r for k, r in resources.items() if k != "TracingPolicy"}
    assert "xray:" not in json.dumps(others)
