"""SAM -> plain CloudFormation with aws-sam-translator, the library `sam deploy` uses.

Local code paths are replaced first by artifact locations on the local endpoint (what `sam package` does), so
the translator and the local CloudFormation accept them. aws-sam-translator lives in the tools environment
(.venv-tools: its pins clash with the project's), so when it is not importable here it runs there.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from infra.template_yaml import REPO

TOOLS_PYTHON = REPO / ".venv-tools" / "bin" / "python"
ARTIFACT_BUCKET = "regime-trader-local-artifacts"
ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"

_TRANSLATE_SCRIPT = """
import json, sys
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
request = json.load(sys.stdin)
out = Translator(managed_policy_map={}, sam_parser=Parser()).translate(
    request["template"], parameter_values=request["parameters"], get_managed_policy_map=lambda: {})
json.dump(out, sys.stdout)
"""


class TranslationError(RuntimeError):
    """The SAM template could not be translated (the message carries the translator's own words)."""


def artifact_key(logical_id: str) -> str:
    """Where the placeholder package of a function or layer lives in the local artifact bucket."""
    return f"{logical_id}.zip"


def with_local_artifacts(sam_template: dict[str, Any]) -> dict[str, Any]:
    """A copy whose CodeUri / ContentUri / image point at the local artifact bucket and repository."""
    template = copy.deepcopy(sam_template)
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            if props.get("PackageType") == "Image":
                props["ImageUri"] = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/{logical_id.lower()}:local"
            else:
                props["CodeUri"] = f"s3://{ARTIFACT_BUCKET}/{artifact_key(logical_id)}"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = f"s3://{ARTIFACT_BUCKET}/{artifact_key(logical_id)}"
    return template


def _pseudo_parameters() -> dict[str, str]:
    return {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID, "AWS::Partition": "aws"}


def translate(sam_template: dict[str, Any], parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """Translate a SAM template (already packaged: no local paths) into CloudFormation."""
    params = {**_pseudo_parameters(), **(parameters or {})}
    try:
        parser_mod = importlib.import_module("samtranslator.parser.parser")
        translator_mod = importlib.import_module("samtranslator.translator.translator")
    except ImportError:
        return _translate_in_tools_env(sam_template, params)
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)  # the translator builds ARNs with it
    translator = translator_mod.Translator(managed_policy_map={}, sam_parser=parser_mod.Parser())
    try:
        out: dict[str, Any] = translator.translate(
            sam_template, parameter_values=params, get_managed_policy_map=lambda: {}
        )
    except Exception as exc:  # the translator's exception types live in the optional package
        raise TranslationError(str(exc)) from exc
    return out


def _translate_in_tools_env(sam_template: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    if not TOOLS_PYTHON.exists():
        raise TranslationError(
            f"aws-sam-translator is not installed here and {TOOLS_PYTHON} is missing: run `make tools`"
        )
    proc = subprocess.run(
        [str(TOOLS_PYTHON), "-c", _TRANSLATE_SCRIPT],
        input=json.dumps({"template": sam_template, "parameters": params}),
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(REPO),
        env={**os.environ, "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION},  # the translator builds ARNs
    )
    if proc.returncode != 0:
        raise TranslationError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result
