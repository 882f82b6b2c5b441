"""Fixtures: the hand-worked lake, loaded once into the local executor."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.trader_host.analytics.hand_lake import write_hand_lake
from trader_host.analytics.lake import FolderLake
from trader_host.analytics.local_athena import LocalAthena


@pytest.fixture(scope="module")
def hand_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    write_hand_lake(root)
    return root


@pytest.fixture(scope="module")
def athena(hand_lake: Path) -> LocalAthena:
    return LocalAthena(FolderLake(hand_lake))
