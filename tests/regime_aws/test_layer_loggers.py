"""The layer's loggers carry the stack's service name whenever they are imported."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_the_layers_loggers_name_the_service_even_when_imported_before_the_function() -> None:
    # In-process (the demo, the local cloud) the layer is imported before any function's environment sets
    # POWERTOOLS_SERVICE_NAME: its log lines came from `service_undefined.regime.cloud.decision_writes`.
    probe = (
        "from regime_aws import bar_windows, decision_writes, model_store\n"
        "print([m.logger.name for m in (bar_windows, decision_writes, model_store)])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
    env["PYTHONPATH"] = f"{REPO / 'layers' / 'regime'}:{REPO}"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    service = _template_service()
    names = ast.literal_eval(out.stdout)
    assert len(names) == 3 and all(name.startswith(f"{service}.") for name in names), names


def _template_service() -> str:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((REPO / "template.yaml").read_text(), Loader=Loader)
    return str(template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"])
