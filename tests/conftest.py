"""Shared fixtures: a real local AWS endpoint (moto in server mode, in its own process)."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.local_cloud.endpoint import MotoServer, endpoint_environment
from regime.models import TrainConfig
from regime.synthetic import SyntheticMarket, synthetic_days
from regime.training import TrainedEnsemble, train_ensemble

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A `realdata` test runs only where ../shared/data is: the project works without it."""
    if item.get_closest_marker("realdata") is not None and not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is not present on this machine")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """Start the local cloud's moto server on a free loopback port for the whole session; yield its URL.

    Sets AWS_ENDPOINT_URL and dummy credentials so that every boto3 client in the process reaches it.
    """
    server = MotoServer.start()
    try:
        with endpoint_environment(server.url):
            yield server.url
    finally:
        server.stop()


@pytest.fixture
def moto_reset(moto_endpoint: str) -> str:
    """A clean local cloud for one test (moto's reset API drops every resource)."""
    req = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=10).close()
    return moto_endpoint


@pytest.fixture(scope="session")
def small_market() -> SyntheticMarket:
    """Eight synthetic sessions: enough to train and evaluate a small ensemble in a few seconds."""
    return synthetic_days(8, seed=11)


@pytest.fixture(scope="session")
def small_ensemble(small_market: SyntheticMarket) -> TrainedEnsemble:
    """An ensemble trained on `small_market` (two walk-forward folds), shared by every test that needs one."""
    config = TrainConfig(folds=2, gbt_iterations=60, svm_max_samples=800)
    return train_ensemble(small_market.bars, config, truth=small_market.truth)


@pytest.fixture(scope="session")
def small_model_path(small_ensemble: TrainedEnsemble, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`small_ensemble` written as ensemble.onnx."""
    path = tmp_path_factory.mktemp("model") / "ensemble.onnx"
    path.write_bytes(small_ensemble.onnx_bytes)
    return path


@pytest.fixture(scope="session")
def layer_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ensemble trained once per session on synthetic days: what the layer carries, in tests."""
    from infra.layer_model import train_layer_model

    path = tmp_path_factory.mktemp("layer") / "ensemble.onnx"
    path.write_bytes(train_layer_model(days=2, seed=3, quick=True)[0])
    return path
