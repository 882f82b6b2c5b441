"""The sweep grid's keys: the wider family's rules are keys like any strategy field."""

from __future__ import annotations

import pytest

from regime.labels import LabelSpec
from trading_engine.config import HostConfig
from trading_engine.sweep.grid import GridError, expand, parse_grid
from trading_engine.sweep.held_out import grid_edges


def test_entry_windows_joined_by_plus_or_all_day() -> None:
    grid = parse_grid(["entry_windows=all,09:00-11:30+13:00-14:30", "max_hold_bars=0,30", "min_confidence=2"])
    assert grid["entry_windows"] == [(), ("09:00-11:30", "13:00-14:30")]
    candidates = expand(grid, HostConfig(), LabelSpec())
    assert len(candidates) == 4
    assert candidates[-1].config.strategy.entry_windows == ("09:00-11:30", "13:00-14:30")
    assert "entry_windows=09:00-11:30+13:00-14:30" in candidates[-1].key
    assert "entry_windows=all" in candidates[0].key
    assert grid_edges(grid, candidates[-1].params) == []  # windows have no order, hence no edge


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["entry_windows=9-10"], "entry_windows"),
        (["atr_pct_low=70", "atr_pct_high=50"], "impossible combination"),
        (["min_confidence=4"], "impossible combination"),
        (["max_hold_bars=1.5"], "is not a int"),
    ],
)
def test_bad_family_values_are_named(items: list[str], message: str) -> None:
    with pytest.raises(GridError, match=message):
        expand(parse_grid(items), HostConfig(), LabelSpec())
