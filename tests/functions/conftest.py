"""Fixtures for the function tests: the template's stack on the local endpoint, handlers bound to it."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import pytest

from infra.local_cloud.handlers import BoundFunction, bind_functions
from infra.local_cloud.stack import LocalStack, deploy

os.environ.setdefault("SDK_MAX_ATTEMPTS", "2")  # keep the SDK's real backoff short in throttling tests


def reset_endpoint(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()


@pytest.fixture(scope="module")
def local_stack(moto_endpoint: str) -> LocalStack:
    """template.yaml deployed on a clean endpoint, once per test module (tests isolate by symbol)."""
    reset_endpoint(moto_endpoint)
    return deploy()


@pytest.fixture(scope="module")
def functions(local_stack: LocalStack) -> dict[str, BoundFunction]:
    return bind_functions(local_stack)


@pytest.fixture(scope="session")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ensemble trained once per session on synthetic days (about 2 s): the layer's copy in tests."""
    from infra.layer_model import train_layer_model

    path = tmp_path_factory.mktemp("layer") / "ensemble.onnx"
    path.write_bytes(train_layer_model(days=2, seed=3, quick=True)[0])
    return path
