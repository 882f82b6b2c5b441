from __future__ import annotations

import pytest

from regime.bar_series import BarSeries
from regime.synthetic import SyntheticMarket


@pytest.fixture
def small_market_bars(small_market: SyntheticMarket) -> BarSeries:
    return small_market.bars
