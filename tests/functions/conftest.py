"""Fixtures for the function tests: the template's stack on the local endpoint, handlers bound to it."""

from __future__ import annotations

import dataclasses
import os
import urllib.request
from pathlib import Path

import pytest

from devkit.local_cloud.handlers import BoundFunction, bind_functions
from devkit.local_cloud.stack import LocalStack, deploy

SDK_ATTEMPTS = 2  # keep the SDK's real backoff short in throttling tests
# Clients made before an invocation (to inject faults) read the same SDK settings as the functions do.
os.environ["AWS_MAX_ATTEMPTS"] = str(SDK_ATTEMPTS)
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "regime-trader")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "RegimeTrader")


def reset_endpoint(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()


@pytest.fixture(scope="module")
def local_stack(moto_endpoint: str) -> LocalStack:
    """template.yaml deployed on a clean endpoint, once per test module (tests isolate by symbol)."""
    reset_endpoint(moto_endpoint)
    return deploy()


@pytest.fixture(scope="module")
def functions(local_stack: LocalStack) -> dict[str, BoundFunction]:
    bound = bind_functions(local_stack)
    return {
        k: dataclasses.replace(f, env={**f.env, "AWS_MAX_ATTEMPTS": str(SDK_ATTEMPTS)})
        for k, f in bound.items()
    }


@pytest.fixture(scope="session")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ensemble trained once per session on synthetic days (about 2 s): the layer's copy in tests."""
    from infra.layer_model import train_layer_model

    path = tmp_path_factory.mktemp("layer") / "ensemble.onnx"
    path.write_bytes(train_layer_model(days=2, seed=3, quick=True)[0])
    return path
