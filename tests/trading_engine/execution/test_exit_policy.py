"""exit_order: the article's far-side limit for every exit, and the configured way for stop exits."""

from __future__ import annotations

import pytest

from regime.contracts import ExitReason, Side
from trading_engine.broker.port import OrderType
from trading_engine.config import STOP_EXIT_MODES
from trading_engine.execution.exit_policy import ExitOrder, exit_order

BID, ASK = 1000, 1001


@pytest.mark.parametrize("mode", STOP_EXIT_MODES)
@pytest.mark.parametrize("reason", [r for r in ExitReason if r is not ExitReason.TRAIL])
def test_non_stop_exits_always_rest_at_the_far_side(mode: str, reason: ExitReason) -> None:
    assert exit_order(Side.SELL, reason, BID, ASK, mode) == ExitOrder(OrderType.LIMIT, ASK)  # type: ignore[arg-type]
    assert exit_order(Side.BUY, reason, BID, ASK, mode) == ExitOrder(OrderType.LIMIT, BID)  # type: ignore[arg-type]


def test_passive_stop_is_the_articles_far_side_limit() -> None:
    assert exit_order(Side.SELL, ExitReason.TRAIL, BID, ASK, "passive") == ExitOrder(OrderType.LIMIT, ASK)
    assert exit_order(Side.BUY, ExitReason.TRAIL, BID, ASK, "passive") == ExitOrder(OrderType.LIMIT, BID)


def test_touch_stop_crosses_the_spread_with_a_limit() -> None:
    assert exit_order(Side.SELL, ExitReason.TRAIL, BID, ASK, "touch") == ExitOrder(OrderType.LIMIT, BID)
    assert exit_order(Side.BUY, ExitReason.TRAIL, BID, ASK, "touch") == ExitOrder(OrderType.LIMIT, ASK)


def test_market_stop_has_no_limit() -> None:
    for side in Side:
        assert exit_order(side, ExitReason.TRAIL, BID, ASK, "market") == ExitOrder(OrderType.MARKET, None)
