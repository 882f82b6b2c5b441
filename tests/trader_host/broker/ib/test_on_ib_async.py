"""The adapter's suite again on ib_async (ib_insync's maintained fork): the README's swap works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
REPO = HERE.parents[3]


@pytest.mark.slow
def test_the_adapters_suite_passes_on_ib_async() -> None:
    path = [str(HERE / "on_ib_async"), str(REPO / "layers" / "regime"), str(REPO)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "ib_async_as_ib_insync", str(HERE), "-m", "not slow",
         "-p", "no:randomly", "-n", "0", "-p", "no:cacheprovider"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=600,
    )  # fmt: skip
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-4000:]
    assert "IB client library: ib_async 2." in out and " passed" in out and " failed" not in out
