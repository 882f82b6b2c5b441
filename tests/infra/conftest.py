"""Fixtures for the infra tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sam_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `sam build` of the layer and the zip functions for this machine's architecture (slow tests)."""
    from infra.lambda_image.sam_local import build

    return build(tmp_path_factory.mktemp("sam-built"))
