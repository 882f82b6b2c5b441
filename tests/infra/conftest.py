"""Fixtures for the infra tests: the repository root importable (infra/ and functions/ are not installed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@pytest.fixture(scope="session")
def layer_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ensemble trained once per session on synthetic days: what the layer carries, in tests."""
    from infra.layer_model import train_layer_model

    path = tmp_path_factory.mktemp("layer") / "ensemble.onnx"
    path.write_bytes(train_layer_model(days=2, seed=3, quick=True)[0])
    return path
