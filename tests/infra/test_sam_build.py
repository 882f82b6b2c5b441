"""`sam build` of the layer and the zip functions (slow: pip downloads arm64 wheels)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.sam_build import LAMBDA_UNZIPPED_LIMIT, build, measure, zip_resources

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sam")
    return {r: build(r, root / r) for r in zip_resources()}


def test_builds_the_layer_and_the_zip_functions(built: dict[str, Path]) -> None:
    assert set(built) == {"RegimeLayer", "IngestBarsFunction", "RegimeFunction"}


def test_layer_holds_numpy_onnxruntime_and_the_core_for_arm64_only(built: dict[str, Path]) -> None:
    python = built["RegimeLayer"] / "python"
    names = {p.name for p in python.iterdir()}
    assert {"numpy", "onnxruntime", "regime", "regime_aws"} <= names  # the core and its AWS edge
    assert not names & {"sklearn", "scipy", "pandas", "skl2onnx", "boto3"}  # training stays out of it
    binaries = list((python / "onnxruntime" / "capi").glob("onnxruntime_pybind11_state*.so"))
    assert binaries and all("aarch64" in b.name for b in binaries)


@pytest.mark.parametrize("function", ["IngestBarsFunction", "RegimeFunction"])
def test_functions_are_thin_and_fit_lambda_with_the_layer(built: dict[str, Path], function: str) -> None:
    folder = built[function]
    assert (folder / "app.py").exists() and (folder / "aws_lambda_powertools").is_dir()
    assert not (folder / "numpy").exists()  # numpy comes from the layer
    total = measure(folder).unzipped + measure(built["RegimeLayer"]).unzipped
    assert total < LAMBDA_UNZIPPED_LIMIT
