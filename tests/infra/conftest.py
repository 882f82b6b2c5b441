"""Fixtures for the infra tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def layer_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ensemble trained once per session on synthetic days: what the layer carries, in tests."""
    from infra.layer_model import train_layer_model

    path = tmp_path_factory.mktemp("layer") / "ensemble.onnx"
    path.write_bytes(train_layer_model(days=2, seed=3, quick=True)[0])
    return path


@pytest.fixture(scope="session")
def sam_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `sam build` of the layer and the zip functions for this machine's architecture (slow tests)."""
    from infra.lambda_image.sam_local import build

    return build(tmp_path_factory.mktemp("sam-built"))
