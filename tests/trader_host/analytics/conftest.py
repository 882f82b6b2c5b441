"""Fixtures: the hand-worked lake, loaded once into the local executor."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # hand_lake, beside this file (importlib import mode)

from hand_lake import write_hand_lake  # noqa: E402

from trader_host.analytics.engine import LocalAthena  # noqa: E402
from trader_host.analytics.lake import FolderLake, load_lake  # noqa: E402


@pytest.fixture(scope="module")
def hand_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    write_hand_lake(root)
    return root


@pytest.fixture(scope="module")
def athena(hand_lake: Path) -> LocalAthena:
    return LocalAthena(load_lake(FolderLake(hand_lake)))
