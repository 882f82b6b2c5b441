"""template.yaml: the linters pass, the SQL files and pins agree with it, and the design's rules hold."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.template_yaml import REPO, TEMPLATE, load_template
from regime.contracts.cadence import DECISION_EVERY_MINUTES
from trader_host.analytics.local_athena import SQL_DIR

TOOLS = REPO / ".venv-tools" / "bin"


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = TOOLS / args[0]
    assert tool.exists(), f"{tool} is missing: run `make tools`"
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "BC_SKIP_MAPPING": "TRUE"}
    return subprocess.run(
        [str(tool), *args[1:]], capture_output=True, text=True, cwd=REPO, env=env, check=False
    )


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def test_sam_validate_lint() -> None:
    proc = run_tool("sam", "validate", "--lint", "-t", str(TEMPLATE))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "is a valid SAM Template" in proc.stdout + proc.stderr


def test_cfn_lint_finds_nothing() -> None:
    proc = run_tool("cfn-lint", str(TEMPLATE))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def assert_checkov_clean(path: Path, template: dict[str, Any], min_passed: int) -> None:
    """checkov fails nothing in `path`, really looked at it, and every skip in it says why."""
    proc = run_tool("checkov", "-f", str(path), "--skip-download", "--quiet", "--compact", "-o", "json")
    report = json.loads(proc.stdout)
    summary = report["summary"]
    assert summary["failed"] == 0 and summary["parsing_errors"] == 0, report["results"].get("failed_checks")
    assert summary["passed"] > min_passed  # it really looked at the resources
    for logical_id, resource in template["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(str(skip.get("comment", ""))) > 20, f"{logical_id}: skip {skip['id']} needs a reason"


def test_checkov_fails_nothing_and_every_skip_has_a_reason(template: dict[str, Any]) -> None:
    assert_checkov_clean(TEMPLATE, template, 50)


def test_named_query_sql_is_the_file_in_the_analytics_queries(template: dict[str, Any]) -> None:
    queries = {
        k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == "AWS::Athena::NamedQuery"
    }
    assert queries
    files = {str(p.relative_to(REPO)) for p in SQL_DIR.glob("*.sql")}
    assert files == {q["Description"] for q in queries.values()}
    for props in queries.values():
        assert (REPO / props["Description"]).read_text() == props["QueryString"], props["Description"]


def _statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(owner: str, node: Any) -> None:
        if isinstance(node, dict):
            if "Effect" in node and "Action" in node:
                found.append((owner, node))
            for v in node.values():
                walk(owner, v)
        elif isinstance(node, list):
            for v in node:
                walk(owner, v)

    for logical_id, resource in template["Resources"].items():
        walk(logical_id, resource.get("Properties", {}))
    return found


def test_the_regime_schedule_runs_at_the_contract_cadence(template: dict[str, Any]) -> None:
    # YAML cannot import the constant: this keeps the cron on the decision boundaries the core assumes.
    schedule = template["Parameters"]["RegimeSchedule"]["Default"]
    assert schedule == f"cron(0/{DECISION_EVERY_MINUTES} * * * ? *)"


def test_no_wildcard_action_is_ever_allowed(template: dict[str, Any]) -> None:
    statements = _statements(template)
    assert len(statements) > 20
    for owner, st in statements:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if st["Effect"] == "Allow":
            assert not any("*" in str(a) for a in actions), f"{owner}: wildcard action in {actions}"
        else:  # the only deny is TLS-only on buckets
            assert st["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, owner


def test_every_bucket_is_encrypted_versioned_private_and_tls_only(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    buckets = [k for k, r in resources.items() if r["Type"] == "AWS::S3::Bucket"]
    policies = {
        r["Properties"]["Bucket"]["Ref"] for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"
    }
    assert len(buckets) == 4 and set(buckets) == policies
    for name in buckets:
        props = resources[name]["Properties"]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert all(props["PublicAccessBlockConfiguration"].values())
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]


def test_functions_are_arm64_python312_and_regime_has_no_tracer(template: dict[str, Any]) -> None:
    # arm64 on AWS; the parameter lets `sam local invoke` run an x86_64 build on an x86_64 machine.
    assert template["Globals"]["Function"]["Architectures"] == [{"Ref": "Architecture"}]
    assert template["Parameters"]["Architecture"]["Default"] == "arm64"
    layer = template["Resources"]["RegimeLayer"]
    assert layer["Properties"]["CompatibleArchitectures"] == [{"Ref": "Architecture"}]
    assert layer["Metadata"]["BuildArchitecture"] == {"Ref": "Architecture"}
    functions = {
        k: r["Properties"]
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    assert set(functions) == {"IngestBarsFunction", "RegimeFunction", "TrainFunction"}
    for props in functions.values():
        assert props.get("PackageType") == "Image" or props["Runtime"] == "python3.12"
        assert "Tracing" not in props
    # Reserved concurrency is a parameter (a new account's quota of 10 cannot spare any), 1 by default.
    for name in ("RegimeFunction", "TrainFunction"):
        assert functions[name]["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}
    assert template["Parameters"]["ReservedConcurrency"]["Default"] == 1
    assert "Tracer" not in (REPO / "functions" / "regime" / "app.py").read_text()


def test_no_secret_in_template_or_samconfig() -> None:
    text = (TEMPLATE.read_text() + (REPO / "samconfig.toml").read_text()).lower()
    for word in ("password", "secret_access_key", "aws_access_key_id", "ibkr_", "token"):
        assert word not in text, word


def _lock_pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (REPO / "requirements" / "dev.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


@pytest.mark.parametrize(
    "path",
    [
        "functions/ingest_bars/requirements.txt",
        "functions/regime/requirements.txt",
        "functions/train/requirements.txt",
        "layers/regime/requirements.txt",
    ],
)
def test_function_requirements_pin_what_the_project_tests_with(path: str) -> None:
    lock = _lock_pins()
    pins = [line for line in (REPO / path).read_text().splitlines() if line and not line.startswith("#")]
    assert pins
    for line in pins:
        name, version = line.split("==", 1)
        assert lock[name.strip().lower().replace("_", "-")] == version.strip(), f"{path}: {line}"


def test_layer_requirements_are_numpy_and_onnxruntime_only() -> None:
    text = Path(REPO / "layers" / "regime" / "requirements.txt").read_text()
    names = {line.split("==")[0] for line in text.splitlines() if line and not line.startswith("#")}
    # onnxruntime's own dependencies are pinned too, never anything for training.
    assert names == {"numpy", "onnxruntime", "flatbuffers", "packaging", "protobuf"}


def test_dashboard_body_is_json_once_substituted(template: dict[str, Any]) -> None:
    from devkit.local_cloud.intrinsics import resolve

    names = {
        "AWS::Region": "us-east-1",
        "RegimeFunction": "r",
        "IngestBarsFunction": "i",
        "TrainFunction": "t",
        "HostSymbol": "CL",
        "RegimeLogGroup": "/aws/lambda/r",
        "Stage": "dev",
    }
    body = resolve(
        template["Resources"]["Dashboard"]["Properties"]["DashboardBody"], names, lambda n, a: None
    )
    widgets = json.loads(body)["widgets"]
    assert len(widgets) == 9
    assert all(
        w["properties"].get("metrics") or w["properties"]["query"].startswith("SOURCE ") for w in widgets
    )


# ---------------------------------------------------------------- hardening (issue 13)
def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def test_the_bar_stream_mapping_gives_up_on_records_older_than_the_stream_keeps(
    template: dict[str, Any],
) -> None:
    bars = template["Resources"]["IngestBarsFunction"]["Properties"]["Events"]["Bars"]["Properties"]
    retention = template["Resources"]["BarStream"]["Properties"]["RetentionPeriodHours"] * 3600
    assert 60 <= bars["MaximumRecordAgeInSeconds"] < retention
    assert bars["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["IngestFailureQueue", "Arn"]
    }


def _alarmed(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every metric an alarm watches, directly or inside its metric math."""
    watched: list[dict[str, Any]] = []
    for alarm in _resources(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if "MetricName" in props:
            watched.append(props)
        for query in props.get("Metrics", []):
            if "MetricStat" in query:
                watched.append(query["MetricStat"]["Metric"])
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    return watched


def test_alarms_watch_both_failure_queues_the_fallback_the_archive_and_every_firehose(
    template: dict[str, Any],
) -> None:
    watched = _alarmed(template)
    queues = {
        m["Dimensions"][0]["Value"]["Fn::Sub"]
        for m in watched
        if m["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    assert queues == {
        q["Properties"]["QueueName"]["Fn::Sub"] for q in _resources(template, "AWS::SQS::Queue").values()
    }
    own = {m["MetricName"] for m in watched if m["Namespace"] == "RegimeTrader"}
    assert {"ModelFallback", "HistoryNotArchived", "SymbolFailures", "DecisionsWritten"} <= own
    firehoses = {
        m["Dimensions"][0]["Value"]["Ref"] for m in watched if m["MetricName"] == "DeliveryToS3.Success"
    }
    assert firehoses == set(_resources(template, "AWS::KinesisFirehose::DeliveryStream"))
    # The metrics alarmed on are the ones the functions emit, under the service the template sets.
    # (the functions' own modules and the AWS edge they share through the layer)
    sources = [REPO / "functions" / f / "app.py" for f in ("ingest_bars", "regime", "train")]
    sources += sorted((REPO / "layers" / "regime" / "regime_aws").glob("*.py"))
    code = "".join(p.read_text() for p in sources)
    service = template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    for m in watched:  # (the host's own: tests/infra/test_template_host_metrics.py)
        if m["Namespace"] == "RegimeTrader" and not m["MetricName"].startswith("Host"):
            assert f'name="{m["MetricName"]}"' in code, m["MetricName"]
            assert m["Dimensions"] == [{"Name": "service", "Value": service}]


def test_scheduled_functions_retry_once_and_never_late(template: dict[str, Any]) -> None:
    functions = _resources(template, "AWS::Serverless::Function")
    scheduled = {
        k
        for k, r in functions.items()
        if any(e["Type"] == "Schedule" for e in r["Properties"]["Events"].values())
    }
    assert scheduled == {"RegimeFunction", "TrainFunction"}
    for name in scheduled:
        config = functions[name]["Properties"]["EventInvokeConfig"]
        assert config["MaximumRetryAttempts"] <= 1
    regime = functions["RegimeFunction"]["Properties"]["EventInvokeConfig"]
    assert regime["MaximumEventAgeInSeconds"] < 6 * 60  # inside a decision's validity


def test_the_regime_timeout_is_clearly_above_the_longest_bar_wait(template: dict[str, Any]) -> None:
    wait = template["Parameters"]["BarWaitSeconds"]["MaxValue"]
    timeout = template["Resources"]["RegimeFunction"]["Properties"]["Timeout"]
    assert timeout >= 2 * wait + 60


def test_kms_grants_to_services_are_bound_to_this_account(template: dict[str, Any]) -> None:
    statements = template["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    for st in statements:
        if "Service" in st["Principal"]:
            condition = json.dumps(st.get("Condition", {}))
            assert "aws:SourceAccount" in condition or "EncryptionContext" in condition, st["Sid"]


def test_no_function_role_carries_an_aws_managed_policy(template: dict[str, Any]) -> None:
    from devkit.local_cloud.sam_translate import translate, with_local_artifacts

    translated = translate(with_local_artifacts(template))
    roles = _resources(translated, "AWS::IAM::Role")
    for name, fn in _resources(translated, "AWS::Lambda::Function").items():
        role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
        assert not roles[role]["Properties"].get("ManagedPolicyArns"), name


def test_one_aws_convention_set_once_in_globals(template: dict[str, Any]) -> None:
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "RegimeTrader" and env["POWERTOOLS_SERVICE_NAME"]
    assert env["AWS_DEFAULTS_MODE"] and int(env["AWS_MAX_ATTEMPTS"]) >= 2
    for f in ("ingest_bars", "regime", "train"):
        code = (REPO / "functions" / f / "app.py").read_text()
        assert "RegimeTrader" not in code and "botocore.config" not in code, f  # nothing set per function
        assert "Logger()" in code and "Metrics()" in code and "LambdaContext" in code, f


def test_the_readme_cost_model_is_computed_from_this_template(template: dict[str, Any]) -> None:
    from bench.cost_model import Sizes, monthly, table

    readme = (REPO / "README.md").read_text()
    shown = readme.split("<!-- cost-model:start -->\n", 1)[1].split("\n<!-- cost-model:end -->", 1)[0]
    assert shown == table(template), "README cost table is stale: paste `python -m bench cost_model`"
    sizes = Sizes.of(template)
    assert sizes.shards == 1 and sizes.memory_mb["RegimeFunction"] == 1024
    assert round(sizes.regime_runs) == 8755 and round(sizes.train_runs, 2) == 4.34  # every 5 min; weekly
    more = dict(template, Resources={**template["Resources"]})
    stream = more["Resources"]["BarStream"]
    more["Resources"]["BarStream"] = {**stream, "Properties": {**stream["Properties"], "ShardCount": 2}}
    assert monthly(Sizes.of(more), 1)["Kinesis"] > monthly(sizes, 1)["Kinesis"] + 10  # it reads the template


def test_the_cost_model_counts_every_metric_the_functions_emit() -> None:
    from bench.cost_model import FUNCTION_METRICS
    from regime.contracts import Regime

    sources = [REPO / "functions" / f / "app.py" for f in ("ingest_bars", "regime", "train")]
    sources += sorted((REPO / "layers" / "regime" / "regime_aws").glob("*.py"))
    code = "".join(p.read_text() for p in sources)
    counted = set(FUNCTION_METRICS)
    assert set(re.findall(r'add_metric\(\s*name="(\w+)"', code)) <= counted
    assert {f"Regime{r.value.capitalize()}" for r in Regime} <= counted
    assert {n.removeprefix("Holdout_") for n in counted if n.startswith("Holdout_")} <= set(
        re.findall(r'"(\w+)"', code)
    )
    # no metric with dimensions of its own (a symbol's would be a custom metric per symbol)
    assert "single_metric" not in code and "add_dimension" not in code
