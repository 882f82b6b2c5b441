"""The wheel the host deploys holds what the host runs (core, engine, host, the monitor's page) and none of
the dev tools, deployment code or functions (pyproject.toml, [tool.setuptools.packages.find])."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from trader_host.analytics.local_athena import SQL_DIR

REPO = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).parent / "uv"
NOT_SHIPPED = ("devkit/", "infra/", "functions/", "regime_aws/", "tests/", "bench/")
# Built from a copy of the sources, so the build's own folders (build/, *.egg-info) never touch the checkout.
_NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv*", ".aws-sam", "build", "artifacts", "state", "spool", "__pycache__", ".*_cache", "*.onnx"
)


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    src = tmp_path_factory.mktemp("src") / "regime-trader"
    shutil.copytree(REPO, src, ignore=_NOT_SOURCES)
    out = src / "dist"
    subprocess.run(
        [str(UV), "build", "--wheel", "--quiet", "--out-dir", str(out), str(src)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("regime_trader-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def _packages(names: set[str]) -> set[str]:
    return {n.split("/")[0] for n in names if "/" in n and not n.split("/")[0].endswith(".dist-info")}


@pytest.mark.slow
def test_the_wheel_holds_the_core_the_engine_and_the_host(wheel_names: set[str]) -> None:
    assert _packages(wheel_names) == {"regime", "trading_engine", "trader_host"}
    for module in (
        "regime/inference.py",
        "trading_engine/trader.py",
        "trading_engine/broker/sim/sim_broker.py",
        "trader_host/cli.py",
        "trader_host/assembly/live_host.py",  # the host's composition root
        "trader_host/broker/ib/ib_broker.py",
    ):
        assert module in wheel_names
    assert {"trader_host/monitor/static/monitor.html", "trader_host/monitor/static/monitor.js"} <= wheel_names
    # `stats` and `report` run the named queries from the installed package: every one is in the wheel.
    queries = {str(p.relative_to(REPO)) for p in SQL_DIR.glob("*.sql")}
    assert queries and all(q.startswith("trader_host/") for q in queries), queries
    assert queries <= wheel_names


@pytest.mark.slow
def test_the_wheel_holds_no_dev_tools_deployment_code_or_functions(wheel_names: set[str]) -> None:
    for name in wheel_names:
        assert not name.startswith(NOT_SHIPPED), name
        assert "fake_gateway" not in name and "local_cloud" not in name, name
